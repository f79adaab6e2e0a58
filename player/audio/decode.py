"""Decoding files in blocks (libsndfile via soundfile) and converting to the device format.

libsndfile reads WAV, FLAC, Ogg Vorbis/Opus and MP3 and recognises a file by its
content, not its name, so a FLAC file called ``.mp3`` still plays. Nothing here loads
a whole file: a one-hour track costs one block of memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf
import soxr

from base.errors import UserFacingError
from player.audio.mixing import to_channels


class AudioDecodeError(UserFacingError):
    """A file that cannot be played; the message names the file and the problem."""


def _describe_open_error(path: Path, exc: Exception) -> str:
    detail = str(exc).split(":")[-1].strip()
    if not detail or "does not exist" in detail:
        # libsndfile says this for any content it cannot recognise.
        detail = "unrecognised format or corrupt data"
    return f"cannot play '{path}': not a readable audio file ({detail})"


class AudioFileHandle:
    """An open audio file, read sequentially in blocks at its own rate and channels."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            raise AudioDecodeError(f"cannot play '{path}': the file no longer exists") from None
        except OSError as exc:
            raise AudioDecodeError(f"cannot play '{path}': {exc.strerror}") from None
        if size == 0:
            raise AudioDecodeError(f"cannot play '{path}': the file is empty (0 bytes)")
        try:
            self._file = sf.SoundFile(str(path))
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise AudioDecodeError(_describe_open_error(path, exc)) from None
        self.samplerate = int(self._file.samplerate)
        self.channels = int(self._file.channels)
        self.frames = int(self._file.frames) if self._file.frames > 0 else 0
        if self.samplerate <= 0 or self.channels <= 0:
            self._file.close()
            raise AudioDecodeError(f"cannot play '{path}': the header has no valid audio format")
        if self.frames == 0:
            self._file.close()
            raise AudioDecodeError(f"cannot play '{path}': the file contains no audio (0 frames)")
        self.position = 0
        if self._file.format in ("WAV", "WAVEX", "RF64"):
            self._check_riff_size(size)

    def _check_riff_size(self, size: int) -> None:
        """libsndfile quietly shortens a cut-off WAV; we would rather say it is broken."""
        with open(self.path, "rb") as raw:
            header = raw.read(12)
            if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                return
            offset = 12
            while offset + 8 <= size:
                raw.seek(offset)
                chunk = raw.read(8)
                chunk_id, length = chunk[:4], int.from_bytes(chunk[4:8], "little")
                if chunk_id == b"data":
                    if length != 0xFFFFFFFF and offset + 8 + length > size:
                        self._file.close()
                        missing = offset + 8 + length - size
                        raise AudioDecodeError(
                            f"cannot play '{self.path}': the file is truncated "
                            f"({missing} bytes of audio data missing)"
                        )
                    return
                offset += 8 + length + (length & 1)

    def seek(self, frame: int) -> None:
        frame = max(0, min(int(frame), self.frames))
        try:
            self._file.seek(frame)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioDecodeError(f"cannot seek in '{self.path}': {exc}") from None
        self.position = frame

    def read(self, frames: int) -> np.ndarray:
        """Up to ``frames`` frames as float32 ``(n, channels)``; empty at the end."""
        try:
            block = self._file.read(frames, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioDecodeError(
                f"cannot play '{self.path}': decoding failed at frame {self.position} ({exc})"
            ) from None
        if not np.all(np.isfinite(block)):
            raise AudioDecodeError(
                f"cannot play '{self.path}': corrupt data near frame {self.position}"
            )
        self.position += len(block)
        return block

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        while True:
            block = self.read(size)
            if len(block) == 0:
                return
            yield block

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioFileHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_audio_file(path: Path) -> AudioFileHandle:
    return AudioFileHandle(Path(path))


class FormatConverter:
    """Streams blocks of one (rate, channels) into the device's (rate, channels).

    Channels are mapped before resampling (fewer channels to resample when mixing
    down); resampling uses soxr's streaming resampler so block edges leave no trace.
    With equal rates it is an exact pass-through, which keeps gapless joins
    sample-exact.
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int) -> None:
        self.channels = channels
        self._resampler: soxr.ResampleStream | None = None
        if in_rate != out_rate:
            self._resampler = soxr.ResampleStream(
                in_rate, out_rate, channels, dtype="float32", quality="HQ"
            )

    def convert(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        mapped = np.ascontiguousarray(to_channels(block, self.channels), dtype=np.float32)
        if self._resampler is None:
            return mapped
        out = self._resampler.resample_chunk(mapped, last=last)
        return np.asarray(out, dtype=np.float32).reshape(-1, self.channels)
