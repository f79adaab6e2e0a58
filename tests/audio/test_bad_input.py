"""Unplayable files are skipped with an error that names them; the queue plays on."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from player.audio import FileSource, PlaybackEngine, QueueEnded, TrackChanged, TrackError
from player.audio.decode import AudioDecodeError, AudioFileHandle
from tests.audio.conftest import SR, tone
from tests.audio.helpers import EventLog, render


def _bad_files(tmp_path, write_audio):
    good = tone(440, 0.3)
    files = {}
    flac = write_audio("whole.flac", tone(440, 2.0))
    data = flac.read_bytes()
    corrupt = bytearray(data)
    corrupt[len(data) // 2 : len(data) // 2 + 3000] = (
        np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    )
    files["corrupt"] = tmp_path / "corrupt.flac"
    files["corrupt"].write_bytes(bytes(corrupt))
    wav = write_audio("whole.wav", tone(440, 1.0)).read_bytes()
    files["truncated"] = tmp_path / "truncated.wav"
    files["truncated"].write_bytes(wav[: len(wav) // 2])
    mp3 = write_audio("whole.mp3", tone(440, 2.0)).read_bytes()
    files["truncated mp3"] = tmp_path / "truncated.mp3"
    files["truncated mp3"].write_bytes(mp3[: len(mp3) // 3])
    files["empty"] = tmp_path / "empty.ogg"
    files["empty"].write_bytes(b"")
    files["zero-length"] = write_audio("zero.wav", np.zeros((0, 2), np.float32))
    files["mislabelled"] = tmp_path / "notes.mp3"
    files["mislabelled"].write_text("these are my notes, not a song\n" * 20)
    files["deleted"] = write_audio("deleted.wav", good)
    return files


@pytest.mark.parametrize("target_lufs", [-14.0, None])
def test_bad_files_are_skipped_and_queue_plays_on(tmp_path, write_audio, target_lufs):
    bad = _bad_files(tmp_path, write_audio)
    goods = [write_audio(f"good{i}.wav", tone(300 + 100 * i, 0.3)) for i in range(3)]
    engine = PlaybackEngine(output="manual", target_lufs=target_lufs)
    log = EventLog(engine)
    order = [goods[0], *list(bad.values())[:4], goods[1], *list(bad.values())[4:], goods[2]]
    try:
        for path in order:
            engine.enqueue(FileSource(path))
        bad["deleted"].unlink()  # removed after it was queued
        engine.play()
        out = render(engine, 3 * SR)
        log.wait_for(QueueEnded)
    finally:
        engine.close()
    errors = log.of(TrackError)
    played = [e.index for e in log.of(TrackChanged)]
    good_indexes = [order.index(g) for g in goods]
    # Every good track became audible, in order.
    assert [i for i in played if i in good_indexes] == good_indexes
    messages = " | ".join(e.message for e in errors)
    for name, path in bad.items():
        if name == "corrupt" and target_lufs is None:
            continue  # without a measuring pass it fails mid-track; checked below
        assert str(path) in messages, f"{name}: {messages}"
    assert "truncated" in messages
    assert "empty" in messages
    assert "no longer exists" in messages
    assert "no audio (0 frames)" in messages
    assert "not a readable audio file" in messages
    audible = np.count_nonzero(np.abs(out[:, 0]) > 0.01)
    assert audible >= 0.8 * 0.9 * SR
    assert engine.buffer_underruns == 0


def test_corrupt_file_mid_track_reports_and_moves_on(tmp_path, write_audio):
    bad = _bad_files(tmp_path, write_audio)
    good = write_audio("good.wav", tone(440, 0.3))
    engine = PlaybackEngine(output="manual", target_lufs=None)
    log = EventLog(engine)
    try:
        engine.enqueue(FileSource(bad["corrupt"]))
        engine.enqueue(FileSource(good))
        engine.play()
        render(engine, 3 * SR)
        error = log.wait_for(TrackError)
        log.wait_for(TrackChanged, lambda e: e.index == 1)
    finally:
        engine.close()
    assert "corrupt.flac" in error.message


def test_mislabelled_but_real_audio_plays_by_content(write_audio, tmp_path):
    flac = write_audio("real.flac", tone(440, 0.5))
    fake_mp3 = tmp_path / "really-flac.mp3"
    fake_mp3.write_bytes(flac.read_bytes())
    with AudioFileHandle(fake_mp3) as handle:
        assert handle.frames == int(0.5 * SR)
    engine = PlaybackEngine(output="manual", target_lufs=None)
    try:
        engine.enqueue(FileSource(fake_mp3))
        engine.play()
        out = render(engine, SR)
    finally:
        engine.close()
    expected = sf.read(str(flac), dtype="float32")[0]
    np.testing.assert_array_equal(out[1024 : len(expected)], expected[1024:])


def test_decode_errors_are_user_facing(tmp_path):
    with pytest.raises(AudioDecodeError, match="no longer exists"):
        AudioFileHandle(tmp_path / "nope.wav")
