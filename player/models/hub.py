"""What the Hub says about a model: its commit, its files, and each file's checksum.

Everything goes through ``huggingface_hub`` (its HTTP client honours ``HF_ENDPOINT``,
``HF_TOKEN``, ``HTTP(S)_PROXY``/``NO_PROXY`` and ``HF_HUB_OFFLINE``); imported only here,
only when the listener asked for a download or a check, never at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from base.errors import UserFacingError
from player.models.catalogue import ModelEntry

DEFAULT_ENDPOINT = "https://huggingface.co"


def endpoint() -> str:
    """``$HF_ENDPOINT`` read now (the hub client reads it once, at its import)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


@dataclass(frozen=True)
class RemoteFile:
    """A file of the repository at one commit. LFS files carry their sha256; small files
    kept in git carry their git blob id (a sha1 over a ``blob <size>\\0`` header)."""

    name: str
    size: int
    sha256: str | None
    blob_id: str | None

    @property
    def key(self) -> str:
        """A name for its partial file that changes when the content does."""
        return self.sha256 or self.blob_id or self.name.replace("/", "_")


class HubUnreachable(UserFacingError):
    """No answer from the Hub: the message says what to fetch by other means, and where."""


def offline_help(entry: ModelEntry, folder: str, cause: object) -> str:
    return (
        f"Cannot reach the model hub at {endpoint()} ({cause}). To install {entry.name} without "
        f"this app, download the files of {entry.repo} (revision {entry.revision}: "
        f"{', '.join(entry.include)}) on a connected machine and put them in {folder}, then "
        f"run `infinite-player models verify {entry.name}`. A proxy is used when HTTPS_PROXY is "
        "set; HF_ENDPOINT points at a mirror."
    )


def remote_files(
    entry: ModelEntry, folder: str, revision: str | None = None
) -> tuple[str, list[RemoteFile]]:
    """The commit ``revision`` (default: the catalogue's) resolves to now, and the files
    the catalogue wants at it."""
    revision = revision or entry.revision
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi(endpoint=endpoint())
    try:
        info = api.model_info(entry.repo, revision=revision, files_metadata=True)
    except GatedRepoError as exc:
        raise UserFacingError(
            f"{entry.repo} asks for an access request on the Hub; accept its terms there "
            f"and set HF_TOKEN ({exc})."
        ) from exc
    except RevisionNotFoundError as exc:
        raise UserFacingError(f"{entry.repo} has no revision {revision!r}.") from exc
    except RepositoryNotFoundError as exc:
        raise UserFacingError(f"{entry.repo} was not found at {endpoint()}.") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status is not None and status < 500:
            raise UserFacingError(f"The hub refused to describe {entry.repo}: {exc}") from exc
        raise HubUnreachable(offline_help(entry, folder, exc)) from exc
    except OfflineModeIsEnabled as exc:
        raise HubUnreachable(offline_help(entry, folder, "HF_HUB_OFFLINE is set")) from exc
    except Exception as exc:  # connection refused, DNS, TLS, timeouts: all "offline" to us
        raise HubUnreachable(offline_help(entry, folder, exc)) from exc
    files = {
        s.rfilename: RemoteFile(
            name=s.rfilename,
            size=int(s.lfs.size if s.lfs else (s.size or 0)),
            sha256=s.lfs.sha256 if s.lfs else None,
            blob_id=s.blob_id,
        )
        for s in info.siblings or []
    }
    wanted = entry.wanted(list(files))
    return str(info.sha or revision), [files[name] for name in wanted]
