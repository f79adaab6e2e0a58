"""Each source's parser on files shaped exactly like the service's export (DB-free)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from base.errors import UserFacingError
from player.imports import FormatError, Play, Skip, importer_for, read_records
from tests.imports.conftest import DATA, make_zip


def parse(kind: str, path: Path) -> tuple[list[Play], Counter[str]]:
    plays: list[Play] = []
    skipped: Counter[str] = Counter()
    for record in read_records(importer_for(kind), path):
        if isinstance(record, Skip):
            skipped[record.reason] += 1
        else:
            plays.append(record)
    return plays, skipped


def test_spotify_account_data_keeps_music_and_drops_short_plays():
    plays, skipped = parse("spotify-export", DATA / "StreamingHistory_music_0.json")
    assert len(plays) == 6
    assert skipped == {"short play": 2}
    first = plays[0]
    assert (first.platform, first.artist, first.track_name) == (
        "spotify",
        "Phoebe Bridgers",
        "Motion Sickness",
    )
    assert first.played_at == datetime(2023, 1, 15, 18, 23, tzinfo=UTC)
    assert {p.artist for p in plays} >= {"Sigur Rós", "坂本龍一"}


def test_spotify_zip_reads_music_files_in_order_and_ignores_podcasts(tmp_path):
    second = b'[{"endTime":"2023-02-01 10:00","artistName":"A","trackName":"T","msPlayed":90000}]'
    archive = make_zip(
        tmp_path / "my_spotify_data.zip",
        {
            "Spotify Account Data/StreamingHistory_music_1.json": second,
            "Spotify Account Data/StreamingHistory_music_0.json": DATA
            / "StreamingHistory_music_0.json",
            "Spotify Account Data/StreamingHistory_podcast_0.json": DATA
            / "StreamingHistory_podcast_0.json",
            "Spotify Account Data/Userdata.json": b'{"username": "x"}',
        },
    )
    plays, skipped = parse("spotify-export", archive)
    assert len(plays) == 7 and skipped == {"short play": 2}
    assert plays[-1].artist == "A"  # _1 after _0


def test_extended_history_has_uris_albums_and_skips_podcasts_and_audiobooks():
    plays, skipped = parse("spotify-extended", DATA / "Streaming_History_Audio_2023.json")
    assert [p.track_name for p in plays] == ["Windowlicker", "Xtal", "Teardrop"]
    assert plays[0].track_id == "spotify:track:6z4o4nVJ0Hz1vz0pE4b0ZC"
    assert plays[1].album == "Selected Ambient Works 85-92"
    assert plays[2].played_at == datetime(2023, 3, 6, 19, 44, 31, tzinfo=UTC)
    assert skipped == {"not music": 2, "short play": 1, "no track metadata": 1}


def test_extended_history_folder_never_reads_video_files():
    plays, skipped = parse("spotify-extended", DATA)
    assert len(plays) == 3 and sum(skipped.values()) == 4


def test_apple_play_activity_counts_only_finished_audio_plays():
    plays, skipped = parse("apple-export", DATA / "Apple Music Play Activity.csv")
    assert [(p.artist, p.track_name, p.album) for p in plays] == [
        ("Frank Ocean", "Nights", "Blonde"),
        ("Radiohead", "Everything In Its Right Place", "Kid A Mnesia"),
        ("The Cure", "Alone", "Songs of a Lost World"),
    ]
    assert plays[0].played_at == datetime(2023, 4, 2, 20, 8, 58, tzinfo=UTC)
    assert skipped == {"not a play": 2, "short play": 1, "not music": 1, "no track metadata": 1}


def test_apple_export_read_from_utf16_as_excel_saves_it(tmp_path):
    text = (DATA / "Apple Music Play Activity.csv").read_text(encoding="utf-8-sig")
    resaved = tmp_path / "Apple Music Play Activity.csv"
    resaved.write_bytes(text.encode("utf-16"))
    plays, _ = parse("apple-export", resaved)
    assert len(plays) == 3


def test_youtube_takeout_keeps_music_app_and_topic_channels_only():
    plays, skipped = parse("youtube-export", DATA / "watch-history.json")
    assert [(p.artist, p.track_name) for p in plays] == [
        ("Queen", "Bohemian Rhapsody"),
        ("Daft Punk", "Around the World"),
        ("Kavinsky", "Nightcall"),
    ]
    assert plays[0].track_id == "https://music.youtube.com/watch?v=fJ9rUzIMcZQ"
    assert skipped == {"not music": 2, "no track metadata": 1}


def test_youtube_takeout_zip(tmp_path):
    archive = make_zip(
        tmp_path / "takeout-20230501T000000Z-001.zip",
        {
            "Takeout/YouTube and YouTube Music/history/watch-history.json": DATA
            / "watch-history.json",
            "Takeout/YouTube and YouTube Music/history/search-history.json": b"[]",
        },
    )
    plays, _ = parse("youtube-export", archive)
    assert len(plays) == 3


def test_listenbrainz_json_list_prefers_spotify_uri_then_mbid():
    plays, skipped = parse("listenbrainz", DATA / "listenbrainz_listens.json")
    assert [p.track_id for p in plays] == [
        "spotify:track:02ppMPbg1OtEdHgoPqoqju",
        "3f9e4c1a-9f7e-4e0a-8b3c-2d1a0c9e8b77",
    ]
    assert plays[0].played_at == datetime.fromtimestamp(1700152800, UTC)
    assert plays[0].platform == "listenbrainz"
    assert skipped == {"no track metadata": 1}


def test_listenbrainz_zip_of_monthly_jsonl_skips_feedback_and_user(tmp_path):
    root = DATA / "listenbrainz_export"
    archive = make_zip(
        tmp_path / "listenbrainz_tester_1701400200.zip",
        {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()},
    )
    plays, skipped = parse("listenbrainz", archive)
    assert [p.track_name for p in plays] == ["Reckoner", "Roygbiv", "Jóga"]
    assert not skipped


@pytest.mark.parametrize("name", ["lastfm-to-csv.csv", "lastfm-scrobbles.csv"])
def test_lastfm_both_export_tools(name):
    plays, _ = parse("lastfm", DATA / name)
    assert plays[0] == Play(
        "lastfm",
        "Reckoner",
        "Radiohead",
        datetime(2021, 1, 31, 12, 34, tzinfo=UTC),
        "In Rainbows",
        plays[0].track_id,
    )
    assert plays[1].artist == "Crosby, Stills, Nash & Young"
    assert plays[1].album == "Déjà Vu"


def test_lastfm_row_without_date_is_now_playing_not_a_listen():
    _, skipped = parse("lastfm", DATA / "lastfm-to-csv.csv")
    assert skipped == {"not a play": 1}


def test_wrong_type_names_file_record_and_field(tmp_path):
    bad = tmp_path / "StreamingHistory_music_0.json"
    bad.write_text(
        '[{"endTime":"2023-01-01 10:00","artistName":"A","trackName":"T",'
        '"msPlayed":1000000},{"endTime":"2023-01-01 10:05","artistName":7,'
        '"trackName":"T","msPlayed":1000}]'
    )
    with pytest.raises(FormatError, match=r"record 2: field 'artistName' should be text"):
        parse("spotify-export", bad)


def test_wrong_export_for_the_kind_is_explained(tmp_path):
    with pytest.raises(FormatError, match="not Apple Music play activity"):
        parse("apple-export", DATA / "lastfm-scrobbles.csv")
    archive = make_zip(tmp_path / "x.zip", {"readme.txt": b"hello"})
    with pytest.raises(UserFacingError, match="holds no StreamingHistory_music"):
        parse("spotify-export", archive)
    with pytest.raises(UserFacingError, match="unknown import kind 'deezer'"):
        importer_for("deezer")


def test_latin1_file_is_rejected_with_the_encoding_named(tmp_path):
    bad = tmp_path / "watch-history.json"
    bad.write_bytes('[{"header":"YouTube Music","title":"Caf\u00e9"}]'.encode("latin-1"))
    with pytest.raises(FormatError, match="not UTF-8"):
        parse("youtube-export", bad)


def test_apple_export_zip_as_downloaded_holds_the_history_in_an_inner_zip(tmp_path):
    """Apple's download is a zip whose history sits in a zip inside it; both levels read."""
    import io
    import zipfile

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(
            DATA / "Apple Music Play Activity.csv",
            "Apple_Media_Services/Apple Music Activity/Apple Music Play Activity.csv",
        )
    outer = tmp_path / "Apple Media Services information.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("Apple Media Services information/Apple_Media_Services.zip", inner.getvalue())
        z.writestr("Apple Media Services information/README.txt", "not history")
    nested, _ = parse("apple-export", outer)
    flat, _ = parse("apple-export", DATA / "Apple Music Play Activity.csv")
    assert nested == flat and len(nested) == 3
