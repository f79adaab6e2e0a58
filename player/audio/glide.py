"""First play of a file nobody measured: start at a safe provisional gain, then glide.

Measuring a whole file before its first sample plays cost 0.3-1.8 s of silence. Instead
the engine estimates a provisional gain from the first seconds (which it decodes
anyway, in a few ms), starts playing, measures the whole file on a helper thread, and
moves the track's gain to the measured value slowly enough that nobody hears a jump:
at most :data:`MAX_DB_PER_SECOND`, one small step per frame. The look-ahead limiter
stays in the path for whatever the estimate missed.

The estimate errs quiet: it uses the *loudest* 400 ms of the opening (not its average)
and the opening's true peak, less a margin of :data:`PROVISIONAL_MARGIN_DB`, so a steady
track rises by that margin over its first seconds and a track that grows louder than
its opening is too loud by at most the difference, for as long as the glide takes.
An opening with no measurable loudness (silence, under 400 ms) plays as if it were a
loud master.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from player.audio.loudness import LoudnessMeter, normalisation_gain_db

#: The glide's speed limit: about 1 dB per second is below what a listener notices.
MAX_DB_PER_SECOND = 1.0
#: How much of the opening the provisional estimate reads.
OPENING_SECONDS = 3.0
#: What an opening with no loudness of its own is taken to be: a loud modern master.
ASSUMED_LOUD_LUFS = -6.0
#: The estimate is lowered by this much: rising 2 dB over 2 s is inaudible, being too
#: loud is not.
PROVISIONAL_MARGIN_DB = 2.0


class GainGlide:
    """A track's gain in dB, moving toward a target at a bounded rate.

    The feeder thread calls :meth:`gains`; another thread may set :attr:`target_db`
    (a single float attribute, so no lock is needed). One glide is kept per source,
    so a seek during the glide carries on from where the gain was.
    """

    def __init__(
        self, start_db: float, samplerate: int, max_db_per_second: float = MAX_DB_PER_SECOND
    ) -> None:
        self.current_db = float(start_db)
        self.target_db: float | None = None
        self.samplerate = int(samplerate)
        self.max_db_per_second = float(max_db_per_second)
        #: Polled while there is no target: the measured gain once someone knows it
        #: (a stream's producer reports loudness when it finishes), else ``None``.
        self.pending: Callable[[], float | None] | None = None
        self._heard = False

    @property
    def settled(self) -> bool:
        """True once the measured gain is known and reached."""
        return self.target_db is not None and self.current_db == self.target_db

    def gains(self, frames: int) -> float | np.ndarray:
        """Linear gain for the next ``frames`` frames: a scalar once settled or waiting."""
        target = self.target_db
        if target is None and self.pending is not None:
            target = self.target_db = self.pending()
        if not self._heard and frames > 0:
            # Measured before a single frame was read (a queued track opened ahead):
            # nothing to glide from, start at the measured gain.
            self._heard = True
            if target is not None:
                self.current_db = target
        if target is None or target == self.current_db or frames <= 0:
            return 10.0 ** (self.current_db / 20.0)
        per_frame = self.max_db_per_second / self.samplerate
        distance = target - self.current_db
        steps = np.minimum(np.arange(1, frames + 1) * per_frame, abs(distance))
        db = self.current_db + math.copysign(1.0, distance) * steps
        self.current_db = target if abs(distance) <= frames * per_frame else float(db[-1])
        return np.power(10.0, db / 20.0).astype(np.float32)


def provisional_gain_db(path: Path, target_lufs: float, seconds: float = OPENING_SECONDS) -> float:
    """A gain for the first seconds of ``path`` that errs quiet (see the module doc).

    Raises :class:`~player.audio.decode.AudioDecodeError` for a file that cannot be
    opened, so the engine reports it like any other unplayable track.
    """
    from player.audio.decode import open_audio_file
    from player.audio.mixing import to_channels

    with open_audio_file(path) as handle:
        channels = min(handle.channels, 2) if handle.channels > 5 else handle.channels
        meter = LoudnessMeter(handle.samplerate, channels)
        wanted = int(seconds * handle.samplerate)
        for block in handle.blocks(min(wanted, 65536)):
            if block.shape[1] != channels:
                block = to_channels(block, channels)
            meter.add(block[: wanted - meter.frames])
            if meter.frames >= wanted:
                break
    return _gain_from_opening(meter, target_lufs)


def provisional_gain_db_of(chunks: list[np.ndarray], samplerate: int, target_lufs: float) -> float:
    """The same estimate for audio already in memory (the first chunks of a stream)."""
    channels = chunks[0].shape[1] if chunks else 2
    if channels > 5:
        from player.audio.mixing import to_channels

        chunks = [to_channels(c, 2) for c in chunks]
        channels = 2
    meter = LoudnessMeter(samplerate, channels)
    wanted = int(OPENING_SECONDS * samplerate)
    for chunk in chunks:
        meter.add(chunk[: wanted - meter.frames])
        if meter.frames >= wanted:
            break
    return _gain_from_opening(meter, target_lufs)


def _gain_from_opening(meter: LoudnessMeter, target_lufs: float) -> float:
    loudest = meter.loudest_block_lufs()
    if not math.isfinite(loudest):
        return min(0.0, target_lufs - ASSUMED_LOUD_LUFS)
    return normalisation_gain_db(loudest, meter.true_peak_dbtp(), target_lufs) - (
        PROVISIONAL_MARGIN_DB
    )
