"""Exports in the layouts the services really ship (issue 21), parsed without a database.

The fixtures' headers, keys and file names follow the real exports as open-source parsers
and their test data show them (checked 2026-11-29, sources in docs/areas/imports.md; no
real export was at hand); every data row is made up.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from player.imports import Importer, Play, Skip, importer_for, read_records
from player.imports.youtube_languages import WORDINGS, strip_wording
from tests.imports.conftest import DATA, make_zip

APPLE = DATA / "apple_2024"
ACTIVITY = "Apple Music Play Activity.csv"
DAILY = "Apple Music - Play History Daily Tracks.csv"
TRACK_HISTORY = "Apple Music - Track Play History.csv"
LIBRARY = "Apple Music Library Tracks.json"


def parse(importer: Importer, path: Path) -> tuple[list[Play], Counter[str]]:
    plays: list[Play] = []
    skipped: Counter[str] = Counter()
    for record in read_records(importer, path):
        if isinstance(record, Skip):
            skipped[record.reason] += 1
        else:
            plays.append(record)
    return plays, skipped


def apple_zip(tmp_path: Path, *names: str) -> Path:
    """Apple's download: the music files in a zip inside "Apple Media Services information"."""
    inner = make_zip(
        tmp_path / "Apple_Media_Services.zip",
        {f"Apple_Media_Services/Apple Music Activity/{name}": APPLE / name for name in names},
    )
    return make_zip(
        tmp_path / "Apple Media Services information.zip",
        {"Apple Media Services information/Apple_Media_Services.zip": inner},
    )


# -- Apple ------------------------------------------------------------------------------


def test_apple_recovers_artists_from_daily_tracks_history_and_library(tmp_path):
    importer = importer_for("apple-export")
    export = apple_zip(tmp_path, ACTIVITY, DAILY, TRACK_HISTORY, LIBRARY)
    plays, skipped = parse(importer, export)
    assert [(p.artist, p.track_name) for p in plays] == [
        ("Frank Ocean", "Nights"),  # Daily Tracks, same day
        ("The Cure", "Alone"),  # Daily Tracks dated a day later (local time)
        ("The xx", "Intro"),  # two "Intro"s that day; the library's album tells them apart
        ("Blur", "Song 2 - 2012 Remaster"),  # a dash inside the song name
        ("Massive Attack", "Teardrop"),  # only in the library
        ("Beyoncé", "Halo"),  # only in Track Play History
        ("Aphex Twin", "Windowlicker"),  # the album's own artist (Container Artist Name)
    ]
    assert plays[0].played_at == datetime(2023, 4, 2, 20, 8, 58, tzinfo=UTC)
    assert plays[2].album == "xx"
    assert skipped == {"not a play": 1, "short play": 1, "no artist in the export": 1}
    assert importer.recovered == {
        "artist from Daily Tracks": 4,
        "artist from Library Tracks": 1,
        "artist from Track Play History": 1,
        "artist from Container Artist Name": 1,
    }
    assert importer.notes == [
        "1 play had no artist in the export (also looked in "
        f"{DAILY}, {TRACK_HISTORY}, {LIBRARY}); they were not imported, since an artist "
        "is never guessed."
    ]


def test_apple_with_daily_tracks_and_library_only_recovers_the_artists(tmp_path):
    importer = importer_for("apple-export")
    plays, skipped = parse(importer, apple_zip(tmp_path, ACTIVITY, DAILY, LIBRARY))
    assert {p.track_name: p.artist for p in plays} == {
        "Nights": "Frank Ocean",
        "Alone": "The Cure",
        "Intro": "The xx",
        "Song 2 - 2012 Remaster": "Blur",
        "Teardrop": "Massive Attack",
        "Windowlicker": "Aphex Twin",
    }
    assert skipped["no artist in the export"] == 2  # Halo (no Track Play History) + the demo


def test_apple_play_activity_alone_reports_missing_artists_and_invents_none(tmp_path):
    importer = importer_for("apple-export")
    plays, skipped = parse(importer, apple_zip(tmp_path, ACTIVITY))
    # The one row whose album names its artist is the only play; nothing else is guessed.
    assert [(p.artist, p.track_name) for p in plays] == [("Aphex Twin", "Windowlicker")]
    assert skipped["no artist in the export"] == 7
    assert importer.notes[0].startswith("7 plays had no artist in the export;")


def test_apple_daily_tracks_alone_is_the_history(tmp_path):
    importer = importer_for("apple-export")
    plays, skipped = parse(importer, apple_zip(tmp_path, DAILY))
    assert Counter((p.artist, p.track_name) for p in plays) == {
        ("Frank Ocean", "Nights"): 1,
        ("The Cure", "Alone"): 1,
        ("The xx", "Intro"): 1,
        ("M83", "Intro"): 2,  # Play Count 2, en dash between artist and song
        ("Blur", "Song 2 - 2012 Remaster"): 1,
    }
    m83 = sorted(p.played_at for p in plays if p.artist == "M83")
    assert m83 == [
        datetime(2023, 4, 5, 10, 0, 0, tzinfo=UTC),  # spread over the "Hours" column
        datetime(2023, 4, 5, 11, 0, 1, tzinfo=UTC),
    ]
    assert skipped == {"not a play": 1, "not music": 1}


def test_apple_daily_tracks_in_the_older_layout(tmp_path):
    """Older exports' Daily Tracks: ``End Reason Type``, no ``Track Reference``, ``Media
    type`` "N/A" and several hours in one cell ("18, 19"), as open-source parsers' test
    data has them. Columns are found by name, so the same rows come out."""
    folder = tmp_path / "Apple Music Activity"
    folder.mkdir()
    (folder / DAILY).write_text(
        "Country,Track Identifier,Media type,Date Played,Hours,Play Duration Milliseconds,"
        "End Reason Type,Source Type,Play Count,Skip Count,Track Description\n"
        'United States,100,N/A,20150630,"18, 19",1300000,NATURAL_END_OF_TRACK,IPHONE,3,1,'
        "Brian Eno - An Ending (Ascent)\n"
        "United States,101,N/A,20150701,9,20000,TRACK_SKIPPED_FORWARDS,IPHONE,1,1,"
        "Fleetwood Mac - Dreams\n",
        encoding="utf-8",
    )
    plays, skipped = parse(importer_for("apple-export"), folder)
    assert [(p.artist, p.track_name, p.played_at) for p in plays] == [
        ("Brian Eno", "An Ending (Ascent)", datetime(2015, 6, 30, 18, 0, 0, tzinfo=UTC)),
        ("Brian Eno", "An Ending (Ascent)", datetime(2015, 6, 30, 19, 0, 1, tzinfo=UTC)),
        ("Brian Eno", "An Ending (Ascent)", datetime(2015, 6, 30, 18, 0, 2, tzinfo=UTC)),
    ]
    assert skipped == {"short play": 1}


def test_apple_single_file_picks_up_its_siblings_from_the_folder():
    plays, _ = parse(importer_for("apple-export"), APPLE / ACTIVITY)
    assert len(plays) == 7


# -- Spotify old layout ------------------------------------------------------------------


def test_old_spotify_export_with_library_skips_show_episodes(tmp_path):
    importer = importer_for("spotify-export")
    export = make_zip(
        tmp_path / "my_spotify_data.zip",
        {
            f"MyData/{name}": DATA / "spotify_2019" / name
            for name in ("StreamingHistory0.json", "StreamingHistory1.json", "YourLibrary.json")
        },
    )
    plays, skipped = parse(importer, export)
    assert [(p.artist, p.track_name) for p in plays] == [
        ("Tame Impala", "Let It Happen"),
        ("Tame Impala", "Nangs"),
        ("Hardcore History", "Supernova in the East I"),
        ("Yussef Kamaal", "Strings of Light"),
        ("Pink Floyd", "Echoes"),
        ("Pink Floyd", "Time"),
    ]
    assert skipped == {"not music": 3, "short play": 1}
    assert importer.notes[0].startswith("3 plays were episodes of podcasts listed in YourLibrary")
    # A show nobody followed is only pointed out; a long Pink Floyd track is not.
    assert "'Hardcore History'" in importer.notes[1] and "Pink Floyd" not in importer.notes[1]


def test_old_spotify_history_file_picked_alone_still_reads_the_library_next_to_it():
    plays, skipped = parse(
        importer_for("spotify-export"), DATA / "spotify_2019" / "StreamingHistory0.json"
    )
    assert "The Daily" not in {p.artist for p in plays}
    assert skipped["not music"] == 2


def test_old_spotify_export_without_library_imports_the_shows_it_cannot_tell(tmp_path):
    lone = tmp_path / "StreamingHistory0.json"
    lone.write_bytes((DATA / "spotify_2019" / "StreamingHistory0.json").read_bytes())
    plays, _ = parse(importer_for("spotify-export"), lone)
    assert "The Daily" in {p.artist for p in plays}


def test_damaged_spotify_library_is_a_clear_error(tmp_path):
    from player.imports import FormatError

    (tmp_path / "StreamingHistory0.json").write_text("[]")
    (tmp_path / "YourLibrary.json").write_text('{"shows": {"name": "x"}}')
    with pytest.raises(FormatError, match=r"YourLibrary\.json: 'shows' should be a list"):
        parse(importer_for("spotify-export"), tmp_path)


# -- YouTube in other languages ---------------------------------------------------------------


def test_youtube_italian_export():
    importer = importer_for("youtube-export")
    plays, skipped = parse(importer, DATA / "youtube_it" / "watch-history.json")
    assert [(p.artist, p.track_name) for p in plays] == [
        ("Queen", "Bohemian Rhapsody"),
        ("Gino Paoli", "Sapore di sale"),
        ("Vasco Rossi", "Vita spericolata"),  # not a Topic channel: the music.youtube.com link
    ]
    assert skipped == {"not music": 2, "no track metadata": 1}  # a video, an ad, a removed one
    assert importer.notes == []


def test_youtube_german_export_and_an_unknown_wording(tmp_path):
    importer = importer_for("youtube-export")
    export = make_zip(
        tmp_path / "takeout-20230601T000000Z-001.zip",
        {
            "Takeout/YouTube und YouTube Music/Verlauf/watch-history.json": DATA
            / "youtube_de"
            / "watch-history.json"
        },
    )
    plays, skipped = parse(importer, export)
    assert [(p.artist, p.track_name) for p in plays] == [
        ("Kraftwerk", "Das Model"),
        ("Nena", "99 Luftballons"),
        # a wording no row of the table knows (made up here): kept whole, found by its link
        ("Helene Fischer", "Atemlos durch die Nacht wurde angesehen"),
    ]
    assert plays[2].track_id == "https://music.youtube.com/watch?v=Helene00001"
    assert skipped == {"not music": 2}
    assert importer.notes and importer.notes[0].startswith("1 YouTube titles are in a wording")


def test_youtube_wording_table_covers_the_ten_largest_languages():
    languages = {w.language for w in WORDINGS}
    assert {"en", "es", "pt", "hi", "id", "ja", "ru", "de", "fr", "ko"} <= languages
    for wording in WORDINGS:
        title = f"{wording.before}Song Title{wording.after}"
        assert strip_wording(title) == ("Song Title", wording.language)
    assert strip_wording("Watched ") == ("Watched ", None)  # nothing left is no title
