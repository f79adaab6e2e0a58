"""The dark theme's text meets WCAG AA, and the focus ring stands out (theme.qss read as
the app loads it, every colour checked against the background it is drawn on)."""

from __future__ import annotations

import re

from ui.theme import contrast_ratio, style_sheet

#: The surfaces text without a background of its own can sit on: window, sidebar and
#: bars, inputs and cards, group boxes, buttons.
SURFACES = ("#121218", "#0c0c11", "#1a1a24", "#16161e", "#24243a")
FOCUS_RING = "#b7a6ff"
AA_TEXT = 4.5
FOCUS_MIN = 3.0


def blocks(sheet: str) -> list[tuple[str, str]]:
    sheet = re.sub(r"/\*.*?\*/", "", sheet, flags=re.S)
    return [(m.group(1).strip(), m.group(2)) for m in re.finditer(r"([^{}]+)\{([^}]*)\}", sheet)]


def prop(body: str, name: str) -> str | None:
    found = re.search(rf"(?:^|;|\s){name}\s*:\s*(#[0-9a-fA-F]{{6}})", body)
    return found.group(1) if found else None


def test_wcag_formula():
    assert round(contrast_ratio("#ffffff", "#000000"), 1) == 21.0
    assert round(contrast_ratio("#777777", "#ffffff"), 2) == 4.48


def test_text_meets_aa_on_its_background():
    failures = []
    checked = 0
    for selector, body in blocks(style_sheet()):
        if ":disabled" in selector:  # WCAG exempts inactive controls
            continue
        color = prop(body, "color")
        if color is None:
            continue
        own = prop(body, "background-color") or prop(body, "background")
        for background in (own,) if own else SURFACES:
            checked += 1
            ratio = contrast_ratio(color, background)
            if ratio < AA_TEXT:
                failures.append(f"{selector}: {color} on {background} = {ratio:.2f}")
    assert checked > 40
    assert failures == []


def test_primary_and_play_buttons_keep_white_text_readable():
    sheet = dict(blocks(style_sheet()))
    for selector in (
        "QPushButton#Primary",
        "QPushButton#Primary:hover",
        "QToolButton#PlayButton",
        "QToolButton#PlayButton:hover",
    ):
        background = prop(sheet[selector], "background-color")
        assert background and contrast_ratio("#ffffff", background) >= AA_TEXT, selector


def test_focus_ring_is_visible_everywhere():
    sheet = style_sheet()
    assert sheet.count(f"2px solid {FOCUS_RING}") >= 6
    for surface in (*SURFACES, "#2a1f3d", "#24203a"):
        assert contrast_ratio(FOCUS_RING, surface) >= 2 * FOCUS_MIN, surface
