"""What a sync can fail with, shared by the Syncer and the transports."""

from __future__ import annotations

from base.errors import UserFacingError


class SyncError(UserFacingError):
    """The sync stopped; the message says where and why. Nothing done so far is lost."""


class RemoteUnreachable(SyncError):
    """The shared database or the Data API cannot be reached, or the session is no longer
    valid; the message says which."""


class RemoteRejected(Exception):
    """The shared database refused one call (a row its rules or constraints refuse); the
    transaction was rolled back. The sync retries row by row and reports what stays."""
