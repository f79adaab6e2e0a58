"""MPRIS on Linux: desktop media keys, lock screens and applets control the player.

Two adaptors on one object at ``/org/mpris/MediaPlayer2`` implement the interfaces
``org.mpris.MediaPlayer2`` and ``org.mpris.MediaPlayer2.Player``; they trigger the
window's shared actions. Without a session bus (a headless machine, another OS)
:func:`start_mpris` returns None and the app carries on.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import ClassInfo, Property, QObject, Slot
from PySide6.QtDBus import QDBusAbstractAdaptor, QDBusConnection, QDBusMessage, QDBusObjectPath

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

SERVICE = "org.mpris.MediaPlayer2.infiniteplayer"
PATH = "/org/mpris/MediaPlayer2"
PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
STATUS = {"playing": "Playing", "paused": "Paused", "buffering": "Playing", "stopped": "Stopped"}


@ClassInfo({"D-Bus Interface": "org.mpris.MediaPlayer2"})  # type: ignore[call-arg]
class RootAdaptor(QDBusAbstractAdaptor):  # type: ignore[operator]
    def __init__(self, parent: MprisService) -> None:
        super().__init__(parent)
        self.service = parent

    @Slot()
    def Raise(self) -> None:
        window = self.service.window
        window.showNormal()
        window.raise_()
        window.activateWindow()

    @Slot()
    def Quit(self) -> None:
        self.service.actions["quit"].trigger()

    CanQuit = Property(bool, lambda self: True)
    CanRaise = Property(bool, lambda self: True)
    HasTrackList = Property(bool, lambda self: False)
    Identity = Property(str, lambda self: "Infinite Player")
    DesktopEntry = Property(str, lambda self: "infinite-player")
    SupportedUriSchemes = Property("QStringList", lambda self: [])  # type: ignore[arg-type]
    SupportedMimeTypes = Property("QStringList", lambda self: [])  # type: ignore[arg-type]


@ClassInfo({"D-Bus Interface": PLAYER_IFACE})  # type: ignore[call-arg]
class PlayerAdaptor(QDBusAbstractAdaptor):  # type: ignore[operator]
    def __init__(self, parent: MprisService) -> None:
        super().__init__(parent)
        self.service = parent

    @Slot()
    def PlayPause(self) -> None:
        self.service.actions["play_pause"].trigger()

    @Slot()
    def Play(self) -> None:
        self.service.playback.play()

    @Slot()
    def Pause(self) -> None:
        self.service.playback.pause()

    @Slot()
    def Stop(self) -> None:
        self.service.playback.stop()

    @Slot()
    def Next(self) -> None:
        self.service.actions["next"].trigger()

    @Slot()
    def Previous(self) -> None:
        self.service.actions["previous"].trigger()

    def _status(self) -> str:
        return STATUS.get(self.service.playback.state, "Stopped")

    def _metadata(self) -> dict[str, Any]:
        return self.service.metadata()

    def _position(self) -> int:
        return int(self.service.playback.position * 1_000_000)

    PlaybackStatus = Property(str, _status)
    Metadata = Property("QVariantMap", _metadata)  # type: ignore[arg-type]
    Position = Property("qlonglong", _position)  # type: ignore[arg-type]
    Volume = Property(float, lambda self: self.service.playback.volume)
    Rate = Property(float, lambda self: 1.0)
    MinimumRate = Property(float, lambda self: 1.0)
    MaximumRate = Property(float, lambda self: 1.0)
    CanGoNext = Property(bool, lambda self: self.service.playback.can_go_next)
    CanGoPrevious = Property(bool, lambda self: True)
    CanPlay = Property(bool, lambda self: True)
    CanPause = Property(bool, lambda self: True)
    CanSeek = Property(bool, lambda self: False)
    CanControl = Property(bool, lambda self: True)


class MprisService(QObject):
    def __init__(self, window: MainWindow, actions: dict[str, Any], bus: QDBusConnection) -> None:
        super().__init__(window)
        self.window = window
        self.actions = actions
        self.playback = window.ctx.playback
        self.bus = bus
        self.root = RootAdaptor(self)
        self.player = PlayerAdaptor(self)
        self.playback.state_changed.connect(lambda _s: self._changed("PlaybackStatus"))
        self.playback.track_changed.connect(lambda _m: self._changed("Metadata", "CanGoNext"))

    def metadata(self) -> dict[str, Any]:
        current = self.playback.current
        if not current.get("track_id"):
            return {"mpris:trackid": QDBusObjectPath("/org/mpris/MediaPlayer2/TrackList/NoTrack")}
        track_path = "/org/infiniteplayer/track/" + current["track_id"].replace("-", "_")
        data: dict[str, Any] = {
            "mpris:trackid": QDBusObjectPath(track_path),
            "xesam:title": current.get("title") or "",
            "xesam:artist": [current.get("band") or "Infinite Player"],
        }
        if current.get("duration"):
            data["mpris:length"] = int(float(current["duration"]) * 1_000_000)
        if current.get("url"):
            data["xesam:url"] = current["url"]
        return data

    def _changed(self, *names: str) -> None:
        values = {
            "PlaybackStatus": self.player.PlaybackStatus,
            "Metadata": self.metadata(),
            "CanGoNext": bool(self.playback.can_go_next),
        }
        message = QDBusMessage.createSignal(
            PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged"
        )
        message.setArguments([PLAYER_IFACE, {n: values[n] for n in names}, []])
        self.bus.send(message)


def start_mpris(window: MainWindow, actions: dict[str, Any]) -> MprisService | None:
    """Register on the session bus; None (quietly) when there is none."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return None
    service = MprisService(window, actions, bus)
    if not bus.registerObject(PATH, service, QDBusConnection.RegisterOption.ExportAdaptors):
        log.info("MPRIS: cannot register %s", PATH)
        return None
    if not bus.registerService(SERVICE):
        log.info("MPRIS: the name %s is taken (another instance?)", SERVICE)
    return service
