"""The Library view driven like a person: play, like, search, sort, playlists."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit

from player.library import Library
from ui.models import TRACK_COLUMNS, PagedTableModel, PlaylistModel
from ui.playback import track_path


def answer_next_dialog(qtbot, text: str) -> None:
    """Type ``text`` into the next modal input dialog and press Enter."""

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog is not None
        line = dialog.findChild(QLineEdit)
        line.clear()
        qtbot.keyClicks(line, text)
        qtbot.keyClick(line, Qt.Key.Key_Return)

    QTimer.singleShot(0, fill)


def double_click(qtbot, widget, pos) -> None:
    # QTest's double click needs the press of a first click on the same cell.
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def wait_rows(qtbot, model, n: int) -> None:
    qtbot.waitUntil(lambda: model.rowCount() == n and not getattr(model, "loading", False))


def test_play_a_track_like_it_and_find_it_in_liked_songs(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    ids = make_tracks(ctx.user_id, 3)
    window.show_view("library")
    lib_view = window.library_view
    lib_view.show_kind("tracks")
    wait_rows(qtbot, lib_view.tracks_model, 3)
    table = lib_view.table
    rect = table.visualRect(table.model().index(1, 0))
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=10000) as blocker:
        double_click(qtbot, table.viewport(), rect.center())
    played = lib_view.tracks_model.row_at(1)
    assert blocker.args[0]["track_id"] == str(played.id)
    assert window.now_playing.title.text() == played.title
    assert window.now_playing.match.text() == f"{played.match}% match"
    assert window.now_playing.title.toolTip() == f"{played.title}\n{played.explanation}"
    qtbot.waitUntil(lambda: window.actions_["like"].isEnabled())
    with qtbot.waitSignal(window.radio.like_changed, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.actions_["like"].isChecked()
    lib_view.show_kind("liked")
    wait_rows(qtbot, lib_view.liked_model, 1)
    assert lib_view.liked_model.row_at(0).id == played.id
    assert Library(ctx.database, ctx.user_id).liked_ids(ids) == {played.id}


def test_search_and_sort_run_in_the_database(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    make_tracks(ctx.user_id, 6)
    window.show_view("library")
    view = window.library_view
    view.show_kind("tracks")
    model = view.tracks_model
    wait_rows(qtbot, model, 6)
    target = model.row_at(3)
    word = target.title.split()[1]
    qtbot.keyClicks(view.search, word)
    qtbot.waitUntil(lambda: model.search == word and not model.loading)
    assert target.id in {r.id for r in model.rows()}
    assert all(word.lower() in r.title.lower() for r in model.rows())
    view.search.clear()
    qtbot.waitUntil(lambda: model.search == "" and not model.loading and model.rowCount() == 6)
    match_col = [c.header for c in TRACK_COLUMNS].index("Match")
    header = view.table.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=header.rect().topLeft() + QPoint(header.sectionViewportPosition(match_col) + 5, 5),
    )
    qtbot.waitUntil(
        lambda: model.sort_key == "match" and not model.loading and model.rowCount() == 6
    )
    matches = [r.match for r in model.rows()]
    assert matches in (sorted(matches), sorted(matches, reverse=True))
    assert len(set(matches)) == 6


def test_create_playlist_add_and_reorder_by_drag_and_drop(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    a, b, c = make_tracks(ctx.user_id, 3)
    window.show_view("library")
    view = window.library_view
    answer_next_dialog(qtbot, "Road trip")
    qtbot.mouseClick(view.new_playlist, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.current_playlist is not None)
    assert view.current_playlist.name == "Road trip"
    assert view.title.text() == "Road trip"
    playlist = view.current_playlist
    view.add_to_playlist(playlist, [a, b, c])
    model = view.playlist_model
    wait_rows(qtbot, model, 3)
    assert [t.id for t in model.rows()] == [a, b, c]
    # drop the first row below the last, as the view does at the end of a drag
    mime = model.mimeData([model.index(0, 0)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert [t.id for t in model.rows()] == [b, c, a]
    lib = Library(ctx.database, ctx.user_id)
    qtbot.waitUntil(lambda: lib.playlist(playlist.id).track_ids == (b, c, a))
    # rename and make public through the header buttons
    answer_next_dialog(qtbot, "Night drive")
    qtbot.mouseClick(view.rename, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: lib.playlist(playlist.id).name == "Night drive")
    qtbot.mouseClick(view.public, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: lib.playlist(playlist.id).is_public)


def test_models_pass_the_model_tester(qtbot, qtmodeltester, session, make_tracks):
    ctx = session.ctx
    make_tracks(ctx.user_id, 7)
    lib = ctx.library
    model = PagedTableModel(
        ctx.tasks,
        lambda o, n, q, s, d: lib.tracks(search=q, sort=s, descending=d, offset=o, limit=n),
        TRACK_COLUMNS,
        default_sort="added",
        page_size=3,
        parent=session.window,
    )
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == 3 and not model.loading)
    assert model.canFetchMore()
    qtmodeltester.check(model, force_py=True)
    while True:  # the tester may have started a fetch of its own: let it land first
        qtbot.waitUntil(lambda: not model.loading)
        if not model.canFetchMore():
            break
        model.fetchMore()
    assert model.rowCount() == 7
    playlist = PlaylistModel(parent=session.window)
    playlist.set_tracks(lib.tracks())
    qtmodeltester.check(playlist, force_py=True)


def test_export_copies_the_audio_file(qtbot, session, make_tracks, tmp_path):
    window, ctx = session.window, session.ctx
    make_tracks(ctx.user_id, 1)
    view = window.library_view
    window.show_view("library")
    view.show_kind("tracks")
    wait_rows(qtbot, view.tracks_model, 1)
    track = view.tracks_model.row_at(0)
    target = tmp_path / "exported.wav"
    source = track_path(track.url)
    view.export(track, target)
    qtbot.waitUntil(lambda: target.exists() and target.stat().st_size == source.stat().st_size)
    assert target.read_bytes() == source.read_bytes()


def test_extend_this_track_generates_a_continuation_and_plays_it(qtbot, session):
    from db.models import GeneratedTrack
    from player.generation.protocol import GenerationRequest

    window, ctx = session.window, session.ctx
    source_id = ctx.generation.generate(
        ctx.user_id, GenerationRequest(mode="new", genres=["house"], duration_seconds=8, seed=3)
    )
    source_id = getattr(source_id, "track_id", source_id)
    window.show_view("library")
    window.library_view.extend(ctx.library.track(source_id))
    qtbot.waitUntil(
        lambda: ctx.playback.current.get("track_id") not in (None, str(source_id)),
        timeout=60000,
    )
    with ctx.database.service_session() as s:
        new = s.get(GeneratedTrack, ctx.playback.current_track_id)
        assert (new.mode, new.source_id, new.status) == ("extend", source_id, "completed")
