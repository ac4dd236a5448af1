"""Who may use the server: users (an email), their tokens and their projects.

Tokens are never stored: only their SHA-256 digest is, in the server's database. A request's token
is hashed and looked up by digest, then confirmed with :func:`hmac.compare_digest`, so the time an
answer takes says nothing about how much of a token was right. A token is a 256-bit random string,
so a plain (unsalted) digest is enough: there is no dictionary to attack.

Accounts come from a JSON file (``--accounts PATH`` or ``QIBO_SERVER_ACCOUNTS``)::

    {"users": [{"email": "ada@example.org", "token": "...", "projects": ["personal", "qml"],
                "admin": false}]}

Every user has the project ``personal`` whether listed or not. The file is an import: the
database is where accounts live (``qibo-client serve users ...`` changes them on a running
server), and each start adds the file's users and projects to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qibo_client.protocol import DEFAULT_PROJECT

ACCOUNTS_ENV = "QIBO_SERVER_ACCOUNTS"


class AccountsError(ValueError):
    """The accounts file cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class User:
    """A user as the HTTP side needs it: no token, only what the answers show."""

    id: int
    email: str
    projects: frozenset[str]
    #: May see every user's queue and act on accounts (the web view's admin page).
    admin: bool = False


@dataclass(frozen=True)
class AccountSpec:
    """One entry of an accounts file, before it is stored."""

    email: str
    token: str
    projects: frozenset[str]
    admin: bool = False


#: The longest email an account may have (RFC 5321's path limit).
MAX_EMAIL_CHARS = 254


def check_email(email: str) -> str:
    """``email`` stripped, if it looks like an address (one ``@``, no spaces), else an error."""
    email = email.strip()
    local, at, domain = email.partition("@")
    if not (at and local and domain and "@" not in domain) or any(c.isspace() for c in email):
        raise AccountsError(f"{email!r} is not an email address (name@domain)")
    if len(email) > MAX_EMAIL_CHARS:
        raise AccountsError(f"an email address has at most {MAX_EMAIL_CHARS} characters")
    return email


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def digests_match(given: str, stored: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(given.encode("ascii"), stored.encode("ascii"))


def parse_accounts(data: Any, source: str = "accounts") -> list[AccountSpec]:
    """Validate the JSON structure of an accounts file."""
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list):
        raise AccountsError(f"{source}: expected an object with a list under 'users'")
    specs: list[AccountSpec] = []
    for index, entry in enumerate(users):
        where = f"{source}: users[{index}]"
        if not isinstance(entry, dict):
            raise AccountsError(f"{where} must be an object")
        email, token = entry.get("email"), entry.get("token")
        if not isinstance(email, str) or "@" not in email:
            raise AccountsError(f"{where}: 'email' must be an email address")
        if not isinstance(token, str) or len(token) < 16:
            raise AccountsError(f"{where}: 'token' must be a string of at least 16 characters")
        projects = entry.get("projects", [])
        if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
            raise AccountsError(f"{where}: 'projects' must be a list of names")
        admin = entry.get("admin", False)
        if not isinstance(admin, bool):
            raise AccountsError(f"{where}: 'admin' must be true or false")
        specs.append(AccountSpec(email, token, frozenset(projects) | {DEFAULT_PROJECT}, admin))
    return specs


def load_accounts(path: str | Path) -> list[AccountSpec]:
    """Read and validate an accounts file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise AccountsError(f"cannot read accounts file {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise AccountsError(f"accounts file {path} is not valid JSON: {err}") from err
    return parse_accounts(data, str(path))


def specs_from(accounts: Iterable[AccountSpec] | Any) -> list[AccountSpec]:
    """Accept either specs or the JSON structure of a file (handy for tests)."""
    if isinstance(accounts, dict):
        return parse_accounts(accounts)
    return list(accounts)
