"""Models a listener can download: the catalogue, the downloader and its checks.

The face of the package: :func:`catalogue`/:func:`find` (what exists),
:func:`local_state` (what is here), :func:`download` (get one, with licence gate, lock,
resume and checksums), :func:`verify` and :func:`remove`. Importing it is cheap: the hub
client and torch are imported only by the functions that need them.
"""

from __future__ import annotations

from player.models.catalogue import ModelEntry, by_family, catalogue, find
from player.models.downloader import (
    DownloadCancelled,
    DownloadReport,
    LicenceNotAccepted,
    NotEnoughSpace,
    Progress,
    download,
)
from player.models.local import (
    LocalState,
    ModelBusy,
    accept_licence,
    licence_accepted,
    licence_text,
    local_state,
    model_dir,
    models_dir,
    remove,
    usable_folder,
)
from player.models.verify import ChecksumMismatch, VerifyReport, verify

__all__ = [
    "ChecksumMismatch",
    "DownloadCancelled",
    "DownloadReport",
    "LicenceNotAccepted",
    "LocalState",
    "ModelBusy",
    "ModelEntry",
    "NotEnoughSpace",
    "Progress",
    "VerifyReport",
    "accept_licence",
    "by_family",
    "catalogue",
    "download",
    "find",
    "licence_accepted",
    "licence_text",
    "local_state",
    "model_dir",
    "models_dir",
    "remove",
    "usable_folder",
    "verify",
]
