"""Which Supabase project the app signs in to: a URL and its publishable key, both public
by design (Supabase: "safe to ship in apps"), read from the environment or the settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from base.errors import UserFacingError

URL_ENV = "INFINITE_PLAYER_SUPABASE_URL"
KEY_ENV = "INFINITE_PLAYER_SUPABASE_KEY"


@dataclass(frozen=True)
class AccountConfig:
    url: str
    key: str

    def __post_init__(self) -> None:
        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserFacingError(
                f"{self.url!r} is not a Supabase project URL (https://<ref>.supabase.co); "
                f"set {URL_ENV} or the supabase_url setting."
            )
        if not self.key.strip():
            raise UserFacingError(
                f"The Supabase project's publishable key is missing: set {KEY_ENV} or the "
                "supabase_key setting."
            )
        if _looks_like_service_key(self.key):
            raise UserFacingError(
                "That key is the project's service-role (secret) key, which bypasses all "
                "row-level security and must never be on a desktop. Use the publishable "
                "(anon) key."
            )


def _looks_like_service_key(key: str) -> bool:
    if key.startswith("sb_secret_"):
        return True
    import jwt

    try:
        claims = jwt.decode(key, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return False
    return claims.get("role") == "service_role"


def account_config(settings: object | None = None) -> AccountConfig | None:
    """The configured project, or None when no URL is set (the account is optional)."""
    url = os.environ.get(URL_ENV, "").strip()
    key = os.environ.get(KEY_ENV, "").strip()
    if settings is not None:
        url = url or str(getattr(settings, "supabase_url", "") or "").strip()
        key = key or str(getattr(settings, "supabase_key", "") or "").strip()
    if not url:
        return None
    return AccountConfig(url.rstrip("/"), key)
