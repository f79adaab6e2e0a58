"""A seeded simulated listener teaches the radio a planted preference, over the protocol.

The listener's taste is hidden from the app and judged from the audio by librosa
(``tests/listener_sim.py``); the radio sees only likes and early skips. With the seeds
fixed the session is deterministic, so the assertion is about learning, not luck.
"""

from __future__ import annotations

import uuid

import pytest

from tests.listener_sim import TASTE_BY_NAME, listen, radio_command

TRACKS = 24
SECONDS = 8.0


@pytest.mark.slow
def test_a_simulated_listener_teaches_the_radio_a_planted_preference(
    database, database_url, make_user
):
    email = f"sim-{uuid.uuid4().hex[:6]}@example.com"
    broad = ["pop", "hip-hop", "house", "techno", "lo-fi", "jazz", "rock", "ambient"]
    make_user(email, preferences_profile={"genres": broad, "vibe": "balanced"})
    env = {
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "INFINITE_PLAYER_DAILY_LIMIT": "0",
    }
    # few random requests fit a 112-132 BPM band (12-18 %), so a good last third is
    # learning, not luck
    taste = TASTE_BY_NAME["tempo-band"]
    session = listen(taste, radio_command(email, TRACKS, SECONDS, rng_seed=11), env, timeout=600)
    assert len(session.liked) == TRACKS, session.stderr
    first, last = session.rate(0, TRACKS // 3), session.rate(2 * TRACKS // 3, TRACKS)
    assert last >= 0.75 and last > first, (session.liked, session.stderr[-500:])
    # what it learned shows in what it played: tempos nearer the band than at the start,
    # as the listener's own analyser hears them (the radio gets there through the tempo it
    # asks for and the auditions that catch a beat heard at half or double time)
    off = [abs(f["tempo"] - 122.0) for f in session.features]
    assert sum(off[-8:]) / 8 < sum(off[:8]) / 8
