"""The library service on the real embedded database, as the user (RLS applies)."""

from __future__ import annotations

import uuid

import pytest

from base.errors import UserFacingError
from db.models import Band, GeneratedTrack
from player.accounts import ensure_user, load_profile
from player.library import Library, track_title
from player.onboarding import OnboardingAnswers, complete_onboarding


def add_tracks(database, user_id, n, band_id=None, match=None):
    ids = []
    with database.service_session() as s:
        for i in range(n):
            t = GeneratedTrack(
                user_id=user_id,
                url=f"file:///tmp/t{i}.mp3",
                duration=60 + i,
                mode="radio",
                match_percentage=match if match is not None else i,
                band_id=band_id,
            )
            s.add(t)
            s.flush()
            ids.append(t.id)
    return ids


def test_titles_in_sql_and_python_agree_and_search_finds_them(database, make_user):
    user = make_user()
    ids = add_tracks(database, user, 5)
    lib = Library(database, user)
    rows = lib.tracks(sort="title", descending=False)
    assert {r.id for r in rows} == set(ids)
    assert [r.title for r in rows] == sorted(track_title(i) for i in ids)
    first_word = rows[2].title.split()[0]
    found = lib.tracks(search=first_word.lower())
    assert rows[2].id in {r.id for r in found}
    assert all(first_word.lower() in r.title.lower() for r in found)
    assert lib.count_tracks(search=first_word) == len(found)
    # a LIKE wildcard typed by the user is literal text, not a pattern
    assert lib.tracks(search="%") == []


def test_like_paging_sorting_and_rls(database, make_user):
    me, other = make_user(), make_user()
    mine = add_tracks(database, me, 7)
    theirs = add_tracks(database, other, 1)
    lib = Library(database, me)
    assert lib.like(mine[3]) is True
    assert lib.like(mine[3]) is False  # already there, no duplicate
    for t in mine[:3]:
        lib.like(t)
    assert lib.count_tracks(liked=True) == 4
    page1 = lib.tracks(liked=True, sort="match", descending=True, limit=2)
    page2 = lib.tracks(liked=True, sort="match", descending=True, offset=2, limit=2)
    assert [r.match for r in page1 + page2] == [3, 2, 1, 0]
    assert lib.liked_ids(mine) == set(mine[:4])
    assert lib.unlike(mine[3]) and not lib.is_liked(mine[3])
    # someone else's private track is invisible to me, so it cannot be looked up
    assert lib.tracks_by_id([theirs[0]]) == []
    assert Library(database, other).count_tracks(liked=True) == 0
    with pytest.raises(UserFacingError, match="sort"):
        lib.tracks(sort="nonsense")


def test_band_name_shows_and_is_searchable(database, make_user):
    me = make_user()
    with database.service_session() as s:
        band = Band(user_id=me, name="The Glass Owls")
        s.add(band)
        s.flush()
        band_id = band.id
    add_tracks(database, me, 2, band_id=band_id)
    add_tracks(database, me, 1)
    rows = Library(database, me).tracks(search="owls")
    assert len(rows) == 2 and {r.band for r in rows} == {"The Glass Owls"}


def test_playlist_lifecycle_and_reorder(database, make_user):
    me = make_user()
    a, b, c, d = add_tracks(database, me, 4)
    lib = Library(database, me)
    with pytest.raises(UserFacingError, match="name"):
        lib.create_playlist("   ")
    p = lib.create_playlist("Road trip")
    assert not p.is_public and p.track_ids == ()
    lib.add_to_playlist(p.id, [a, b, c, d])
    assert lib.move_in_playlist(p.id, [0], 3).track_ids == (b, c, a, d)
    assert lib.move_in_playlist(p.id, [2, 3], 0).track_ids == (a, d, b, c)
    assert lib.move_in_playlist(p.id, [0], 4).track_ids == (d, b, c, a)
    assert lib.remove_from_playlist(p.id, [1]).track_ids == (d, c, a)
    assert [t.id for t in lib.playlist_tracks(p.id)] == [d, c, a]
    assert lib.rename_playlist(p.id, "Night drive").name == "Night drive"
    assert lib.set_playlist_public(p.id, True).is_public
    other = make_user()
    with pytest.raises(UserFacingError, match="no longer exists"):
        Library(database, other).rename_playlist(p.id, "mine now")
    lib.delete_playlist(p.id)
    assert lib.playlists() == []


def test_history_records_plays_and_searches(database, make_user):
    me = make_user()
    (t,) = add_tracks(database, me, 1)
    lib = Library(database, me)
    row = lib.track(t)
    assert row is not None
    lib.record_play(row)
    lib.record_play(row)
    hist = lib.history()
    assert len(hist) == 2 and hist[0].platform == "infinite" and hist[0].track_name == row.title
    assert lib.count_history(search=row.title.split()[1]) == 2
    assert lib.count_history(search="zzz-not-there") == 0


def test_onboarding_validation_and_save(database):
    answers = OnboardingAnswers(email="not-an-email", genres=[], vibe="", tempo_min=150)
    problems = answers.errors(["house", "jazz"])
    assert set(problems) == {"email", "genres", "vibe", "tempo"}
    assert "not an email" in problems["email"]
    with pytest.raises(UserFacingError):
        complete_onboarding(database, answers)
    good = OnboardingAnswers(
        email="ada@example.com",
        genres=["house"],
        favorite_artists=["Daft Punk", " "],
        vibe="energetic",
        bass_level="high",
        tempo_min=120,
        tempo_max=128,
    )
    user = complete_onboarding(database, good, ["house", "jazz"])
    profile = load_profile(database, user)
    assert profile.onboarding_completed and profile.email == "ada@example.com"
    assert profile.preferences["genres"] == ["house"]
    assert profile.preferences["favorite_artists"] == ["Daft Punk"]
    assert profile.preferences["tempo_range"] == "120-128"
    # the same email finds the same user, whatever its case
    assert ensure_user(database, "ADA@example.com") == user
    assert isinstance(user, uuid.UUID)


def test_measured_loudness_is_stored_once_and_played_from_the_row(database, make_user):
    """The engine measures a track's first play; the row keeps it for every later play."""
    from ui.playback import track_metadata

    owner, other = make_user(), make_user()
    (track_id,) = add_tracks(database, owner, 1)
    assert "loudness_lufs" not in track_metadata(Library(database, owner).track(track_id))
    # Another user cannot write loudness onto someone else's track (RLS).
    Library(database, other).store_loudness(track_id, -30.0, -3.0)
    Library(database, owner).store_loudness(track_id, -17.5, -1.2)
    row = Library(database, owner).track(track_id)
    assert (row.loudness_lufs, row.true_peak_dbtp) == pytest.approx((-17.5, -1.2))
    metadata = track_metadata(row)
    assert metadata["loudness_lufs"] == pytest.approx(-17.5)
    # Silence measures -inf: nothing is stored rather than a value that isn't a number.
    Library(database, owner).store_loudness(track_id, float("-inf"), float("-inf"))
    assert Library(database, owner).track(track_id).loudness_lufs == pytest.approx(-17.5)


def test_playback_reports_a_first_measurement_for_storage(qtbot, tmp_path):
    import soundfile as sf

    from player.audio import FileSource, PlaybackEngine
    from tests.audio.conftest import tone
    from ui.playback import Playback

    path = tmp_path / "t.wav"
    sf.write(path, tone(1000, 1.0, amp=0.1), 48000)
    track_id = str(uuid.uuid4())
    playback = Playback(PlaybackEngine(output="null"))
    try:
        with qtbot.waitSignal(playback.loudness_measured, timeout=20000) as blocker:
            playback.engine.enqueue(FileSource(path, {"track_id": track_id}))
            playback.engine.play()
        got_id, lufs, _peak = blocker.args
        assert got_id == track_id
        assert lufs == pytest.approx(-20.0, abs=0.2)
    finally:
        playback.close()
