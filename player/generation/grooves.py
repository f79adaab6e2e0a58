"""Groove families: the drum patterns a genre can play, as data.

One pattern per genre is heard as one loop. Each genre here has a family of patterns
(kick and backbeat placements that still read as the genre); a track draws a main
groove and a second one its main sections (chorus, drop) switch to, and the composer
varies both every few bars. The genre's own pattern from :mod:`genres` is always
member 0. Timekeeping (hats, shaker, ride) is left to the genre and to ``density``.
Patterns are 16-step strings: ``x`` accent, ``o`` normal, ``g`` ghost, ``.`` rest.
"""

from __future__ import annotations

from player.generation.genres import STYLES

# Per genre: overrides of the genre's groove (drums not named keep the genre's pattern).
_FAMILIES: dict[str, tuple[dict[str, str], ...]] = {
    "pop": (
        {"kick": "x.......x.x.....", "snare": "....x.......x..g"},
        {"kick": "x..x....x.......", "clap": "....x.......x.x."},
        {"kick": "x...x...x...x...", "snare": "....x.......x..."},
    ),
    "hip-hop": (
        {"kick": "x.........x..x..", "snare": "....x.......x..g"},
        {"kick": "x..x......x.....", "rim": "......g.......g."},
        {"kick": "x.x.......x.....", "snare": "....x..g....x..."},
    ),
    "house": (
        {"kick": "x...x...x...x..g", "clap": "....x.......x..."},
        {"kick": "x...x...x...x...", "clap": "....x.......x...", "open_hat": "..x...x...x...x."},
        {"kick": "x...x...x...x...", "clap": "....x..g....x..g", "shaker": "gggggggggggggggg"},
    ),
    "techno": (
        {"kick": "x...x...x...x...", "rim": "..g..g..g..g..g."},
        {"kick": "x...x...x...x.g.", "clap": "........x......."},
        {"kick": "x...x..gx...x...", "rim": "...g...g...g.g.g"},
    ),
    "lo-fi": (
        {"kick": "x.........x.....", "snare": "....x.......x..."},
        {"kick": "x......x..x.....", "rim": "....x.......x..."},
        {"kick": "x..g......x..g..", "snare": "....x......gx..."},
    ),
    "ambient": (
        {"kick": "x.......x......."},
        {"kick": "x..........x....", "rim": "....g.......g..."},
        {"kick": "................", "rim": "........g..g...."},
    ),
    "rock": (
        {"kick": "x.......x.x.....", "snare": "....x.......x..."},
        {"kick": "x.x...x.x.x...x.", "snare": "....x.......x..."},
        {"kick": "x.....x...x.....", "snare": "....x..g....x..g"},
    ),
    "jazz": (
        {"kick": "g.........g.....", "snare": "...g......g...g."},
        {"kick": "g.......g.....g.", "snare": "......g..g....g."},
        {"kick": "........g.......", "snare": "..g...g.....g..g"},
    ),
    "r&b": (
        {"kick": "x.......x..x....", "clap": "....x.......x..."},
        {"kick": "x..x...x........", "rim": "...g...g...g..g."},
        {"kick": "x......xx.......", "clap": "....x.......x..g"},
    ),
    "drum-and-bass": (
        {"kick": "x.x.......x.....", "snare": "....x.......x..."},
        {"kick": "x.........x..x..", "snare": "....x..g....x.g."},
        {"kick": "x......x..x.....", "snare": "....x.......x..x"},
    ),
    "trap": (
        {"kick": "x.....x..x......", "snare": "........x......."},
        {"kick": "x..x......x..x..", "snare": "........x......x"},
        {"kick": "x.......xx......", "snare": "........x.......", "hat": "xoxoxxxoxoxoxxxx"},
    ),
    "synthwave": (
        {"kick": "x...x...x...x...", "snare": "....x.......x..."},
        {"kick": "x.......x.x.....", "snare": "....x.......x..."},
        {"kick": "x..x....x.......", "snare": "....x.......x.x."},
    ),
}


def groove_family(genre_id: str) -> tuple[dict[str, str], ...]:
    """Every groove of ``genre_id``: the genre's own first, then its family."""
    base = dict(STYLES[genre_id].groove)
    return (base, *({**base, **over} for over in _FAMILIES.get(genre_id, ())))
