"""The listener's Supabase account: sign-in, the session kept between runs, sign-out.

The app knows only the project URL and its publishable key (settings or environment, never
the repository); everything else comes from the user signing in. The refresh token is kept
in the OS keyring (an encrypted file where there is none, ``vault.py``), access tokens only
in memory, and refreshing is serialised across processes (``session.py``).
"""

from __future__ import annotations

from player.account.config import AccountConfig, account_config
from player.account.session import Account, SignedIn, SignInError
from player.account.vault import FileVault, KeyringVault, SessionVault, default_vault

__all__ = [
    "Account",
    "AccountConfig",
    "FileVault",
    "KeyringVault",
    "SessionVault",
    "SignInError",
    "SignedIn",
    "account_config",
    "default_vault",
]
