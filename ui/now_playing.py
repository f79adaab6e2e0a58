"""The now-playing bar: always visible at the bottom of the window.

It only connects to :class:`ui.playback.Playback` signals and triggers the window's
shared ``QAction`` s (play/pause, next, previous, like), so the bar, the keyboard, the
tray and MPRIS all drive playback the same way.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.art import WaveStrip, track_art
from ui.models import format_duration
from ui.playback import Playback
from ui.theme import icon
from ui.widgets import ElidedLabel

SLIDER_STEPS = 1000


def _tool(action: QAction, name: str, size: int = 20) -> QToolButton:
    """An icon-only button for ``action``; its accessible name follows the action's text
    (Play/Pause, Like/Unlike), since a screen reader cannot read an icon."""
    button = QToolButton()
    button.setDefaultAction(action)
    button.setObjectName(name)
    button.setAccessibleName(action.text())
    action.changed.connect(lambda: button.setAccessibleName(action.text()))
    button.setIconSize(button.iconSize().scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


class NowPlayingBar(QWidget):
    def __init__(self, playback: Playback, actions: dict[str, QAction], parent: Any = None):
        super().__init__(parent)
        self.setObjectName("NowPlayingBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.playback = playback
        self._actions = actions
        self._seeking = False
        self._explanation = ""

        left = self._track_info()
        centre = self._transport_and_seek()
        right = self._volume_control()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(16)
        left_w, centre_w, right_w = QWidget(), QWidget(), QWidget()
        left_w.setLayout(left)
        centre_w.setLayout(centre)
        right_w.setLayout(right)
        layout.addWidget(left_w, 4)
        layout.addWidget(centre_w, 5)
        layout.addWidget(right_w, 1)
        for part in (left, centre, right):
            part.setContentsMargins(0, 0, 0, 0)

        playback.track_changed.connect(self.show_track)
        playback.position_changed.connect(self.show_position)
        playback.state_changed.connect(self.show_state)
        self.show_state(playback.state)

    # -- building the bar (one part each) ------------------------------------------------

    def _track_info(self) -> QHBoxLayout:
        """Left: cover, title, band, match badge and the like button."""
        self.cover = QLabel()
        self.cover.setObjectName("Cover")
        self.cover.setFixedSize(56, 56)
        self.cover.setPixmap(track_art("", 56))
        self.title = ElidedLabel("Nothing playing", Qt.TextElideMode.ElideRight)
        self.title.setObjectName("NowTitle")
        self.band = ElidedLabel("Press Play to start your radio", Qt.TextElideMode.ElideRight)
        self.band.setObjectName("NowBand")
        self.match = QLabel("")
        self.match.setObjectName("MatchBadge")
        self.match.hide()
        meta = QVBoxLayout()
        meta.setSpacing(2)
        meta.addStretch(1)
        # The title has its own line, so a narrow window elides it, not the badge beside it.
        meta.addWidget(self.title)
        band_row = QHBoxLayout()
        band_row.setSpacing(8)
        band_row.addWidget(self.band, 1)
        band_row.addWidget(self.match)
        meta.addLayout(band_row)
        meta.addStretch(1)
        self.like_button = _tool(self._actions["like"], "LikeButton")
        left = QHBoxLayout()
        left.setSpacing(12)
        left.addWidget(self.cover)
        left.addLayout(meta, 1)
        left.addWidget(self.like_button)
        return left

    def _transport_and_seek(self) -> QVBoxLayout:
        """Centre: previous, play/pause and next over the waveform and the seek slider."""
        self.previous_button = _tool(self._actions["previous"], "PreviousButton")
        self.play_button = _tool(self._actions["play_pause"], "PlayButton", 22)
        self.next_button = _tool(self._actions["next"], "NextButton")
        transport = QHBoxLayout()
        transport.setSpacing(14)
        transport.addStretch(1)
        transport.addWidget(self.previous_button)
        transport.addWidget(self.play_button)
        transport.addWidget(self.next_button)
        transport.addStretch(1)
        self.wave = WaveStrip()
        self.wave.seek_requested.connect(self._seek_fraction)
        self.elapsed = QLabel("0:00")
        self.remaining = QLabel("–:––")
        for label in (self.elapsed, self.remaining):
            label.setObjectName("TimeLabel")
            label.setMinimumWidth(44)
        self.elapsed.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.seek = QSlider(Qt.Orientation.Horizontal)
        self.seek.setObjectName("SeekSlider")
        self.seek.setAccessibleName("Position in the track")
        self.seek.setRange(0, SLIDER_STEPS)
        self.seek.setEnabled(False)
        self.seek.sliderPressed.connect(self._begin_seek)
        self.seek.sliderReleased.connect(self._end_seek)
        seek_row = QHBoxLayout()
        seek_row.setSpacing(10)
        seek_row.addWidget(self.elapsed)
        seek_col = QVBoxLayout()
        seek_col.setSpacing(2)
        seek_col.addWidget(self.wave)
        seek_col.addWidget(self.seek)
        seek_row.addLayout(seek_col, 1)
        seek_row.addWidget(self.remaining)
        centre = QVBoxLayout()
        centre.setSpacing(4)
        centre.addLayout(transport)
        centre.addLayout(seek_row)
        return centre

    def _volume_control(self) -> QHBoxLayout:
        """Right: the volume slider."""
        volume_icon = QLabel()
        volume_icon.setPixmap(icon("volume").pixmap(18, 18))
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("VolumeSlider")
        self.volume.setAccessibleName("Volume")
        self.volume.setRange(0, 100)
        self.volume.setMinimumWidth(60)
        self.volume.setMaximumWidth(110)
        self.volume.setValue(round(self.playback.volume * 100))
        self.volume.valueChanged.connect(lambda v: self.playback.set_volume(v / 100))
        self.volume.setToolTip("Volume")
        right = QHBoxLayout()
        right.setSpacing(8)
        right.addStretch(1)
        right.addWidget(volume_icon)
        right.addWidget(self.volume)
        return right

    # -- updates --------------------------------------------------------------------------

    def show_track(self, metadata: dict[str, Any]) -> None:
        key = str(metadata.get("track_id") or "")
        self.title.setText(metadata.get("title") or "Nothing playing")
        self.band.setText(metadata.get("band") or ("Infinite Player" if key else ""))
        self.cover.setPixmap(track_art(key, 56))
        match = metadata.get("match")
        self._explanation = str(metadata.get("explanation") or "")
        if match is not None:
            self.match.setText(f"{int(match)}% match")
            self.match.show()
        else:
            self.match.hide()
        tip = self._explanation or ""
        for widget in (self.match, self.cover):
            widget.setToolTip(tip)
        self.title.set_extra_tip(tip)
        self.wave.set_track(key)
        self.seek.setEnabled(bool(key))
        self.show_position(0.0, float(metadata.get("duration") or -1))

    def show_position(self, position: float, duration: float) -> None:
        self.elapsed.setText(format_duration(position))
        if duration and duration > 0:
            self.remaining.setText("-" + format_duration(max(0.0, duration - position)))
            fraction = position / duration
        else:
            self.remaining.setText("–:––")
            fraction = 0.0
        self.wave.set_fraction(fraction)
        if not self._seeking:
            self.seek.blockSignals(True)
            self.seek.setValue(round(fraction * SLIDER_STEPS))
            self.seek.blockSignals(False)

    def show_state(self, state: str) -> None:
        playing = state == "playing"
        action = self._actions["play_pause"]
        action.setIcon(icon("pause" if playing else "play"))
        action.setText("Pause" if playing else "Play")

    def set_liked(self, liked: bool) -> None:
        action = self._actions["like"]
        action.setIcon(icon("heart-filled" if liked else "heart"))
        action.setText("Unlike" if liked else "Like")
        action.setChecked(liked)

    @property
    def explanation(self) -> str:
        return self._explanation

    # -- seeking --------------------------------------------------------------------------

    def _begin_seek(self) -> None:
        self._seeking = True

    def _end_seek(self) -> None:
        self._seeking = False
        self._seek_fraction(self.seek.value() / SLIDER_STEPS)

    def _seek_fraction(self, fraction: float) -> None:
        duration = self.playback.duration
        if duration and duration > 0:
            self.playback.seek(fraction * duration)
