"""Views talk through signals the main window connects, never through a shared dict.

The library's "Add to band" menu reads the listener's bands from the bands service and
follows the Bands view's ``my_bands_changed``; it used to read a dict the Bands view
filled, so it stayed empty until that view had loaded.
"""

from __future__ import annotations

from ui.views.library import LibraryView


def band_names(view: LibraryView, track) -> list[str]:
    menu = view.build_menu([track])
    (add_to_band,) = [a.menu() for a in menu.actions() if a.text() == "Add to band"]
    return [a.text() for a in add_to_band.actions() if a.text() and not a.isSeparator()]


def wait_for_bands_loaded(qtbot, ctx) -> None:
    qtbot.waitUntil(
        lambda: not any(t.description == "Loading bands" for t in ctx.tasks.active),
        timeout=20000,
    )


def test_add_to_band_offers_my_bands_before_the_bands_view_loads_them(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    (track_id,) = make_tracks(ctx.user_id, 1)
    track = ctx.library.track(track_id)
    wait_for_bands_loaded(qtbot, ctx)  # what the window loaded at start has no band yet
    ctx.bands.create_band(ctx.user_id, genres=["jazz"], name="Early Birds", is_public=False)
    # A library view on its own: no Bands view has read the new band.
    view = LibraryView(ctx, window.radio)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: "Early Birds" in band_names(view, track), timeout=20000)
    assert window.bands_view.mine.model_.rowCount() == 0


def test_the_bands_views_list_reaches_the_library_menu(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    (track_id,) = make_tracks(ctx.user_id, 1)
    track = ctx.library.track(track_id)
    wait_for_bands_loaded(qtbot, ctx)
    band = ctx.bands.create_band(ctx.user_id, genres=["house"], name="Night Shift")
    assert "Night Shift" not in band_names(window.library_view, track)
    window.bands_view.my_bands_changed.emit([band])
    assert band_names(window.library_view, track) == ["Night Shift", "New band from selection…"]
