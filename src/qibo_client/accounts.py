"""Saved accounts: log in once per server, then no token in code, notebooks or shell history.

One small JSON file in the user's config directory (``platformdirs.user_config_dir("qibo-client")``,
or ``QIBO_CLIENT_CONFIG_DIR``) holds one token per server URL and names one of them the default:

    {"version": 1, "default": "https://cloud.qibo.science",
     "accounts": {"https://cloud.qibo.science": {"token": "...", "saved": "2026-11-24T00:40:00Z"}}}

Why it is written the way it is:

- **Never readable by others, not for an instant.** The file is created with mode 0600 by
  ``os.open`` (not chmod-ed after the fact), in a directory made 0700, and replaced atomically
  (a new file, then ``os.replace``), so a crash mid-write leaves the old file whole.
- **A token belongs to its server.** Tokens are keyed by the server's URL (scheme and host
  lower-cased, trailing slash dropped) and :meth:`SavedAccounts.token_for` gives a token only for
  its own URL, so a saved token can never travel to another server.
- **It is a settings source.** :class:`SavedAccounts` is the last of
  :data:`qibo_client.settings.SOURCES`: arguments, then the environment, then this file.

This module never prints or logs a token; the commands that use it are in :mod:`.accounts_cli`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from qibo_client.errors import ConfigurationError

logger = logging.getLogger("qibo_client.accounts")

#: Environment variable: the directory of the accounts file (tests, several identities).
CONFIG_DIR_ENV = "QIBO_CLIENT_CONFIG_DIR"
#: The file's name inside the config directory.
FILE_NAME = "accounts.json"
FORMAT_VERSION = 1


def config_dir() -> Path:
    """``QIBO_CLIENT_CONFIG_DIR``, else the platform's user config directory for qibo-client."""
    configured = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("qibo-client", appauthor=False))


def accounts_path() -> Path:
    """Where the saved accounts live (the file may not exist yet)."""
    return config_dir() / FILE_NAME


def url_key(url: str) -> str:
    """The form a URL is saved under: scheme and host lower-cased, no default port, no final /."""
    parts = urlsplit(url.strip())
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


@dataclass(frozen=True)
class Account:
    """One saved server: its URL, whether it is the default, when it was saved (no token shown)."""

    url: str
    token: str = field(repr=False)
    default: bool = False
    saved: str = ""


@dataclass
class AccountsFile:
    """The parsed file: ``accounts`` maps a URL key to its entry; ``default`` is a key or None."""

    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    default: str | None = None

    def listing(self) -> list[Account]:
        return [
            Account(url, entry["token"], url == self.default, entry.get("saved", ""))
            for url, entry in sorted(self.accounts.items())
        ]


def read(path: Path | None = None) -> AccountsFile:
    """The saved accounts (none when there is no file); ConfigurationError for a damaged file."""
    path = path or accounts_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AccountsFile()
    except OSError as err:
        raise ConfigurationError(f"cannot read the saved accounts in {path}: {err}") from None
    _warn_if_exposed(path)
    try:
        body = json.loads(text)
        accounts = {
            url_key(str(url)): {"token": str(entry["token"]), "saved": str(entry.get("saved", ""))}
            for url, entry in dict(body.get("accounts", {})).items()
        }
        default = body.get("default")
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ConfigurationError(
            f"the saved accounts file {path} is damaged: fix it, or delete it and log in again"
        ) from None
    key = url_key(default) if isinstance(default, str) else None
    return AccountsFile(accounts, key if key in accounts else None)


def _warn_if_exposed(path: Path) -> None:
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "%s is readable by other users (mode %o): run chmod 600 on it", path, mode & 0o777
        )


def write(accounts: AccountsFile, path: Path | None = None) -> Path:
    """Replace the file atomically; the new file is 0600 from its creation on."""
    path = path or accounts_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = {
        "version": FORMAT_VERSION,
        "default": accounts.default,
        "accounts": accounts.accounts,
    }
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        staging.unlink()  # a leftover of a crashed write by a process with our pid
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
        raise
    return path


def save(url: str, token: str, *, make_default: bool = True, path: Path | None = None) -> Account:
    """Save ``token`` for ``url`` (replacing any token saved for it); the first one is default."""
    accounts = read(path)
    key = url_key(url)
    saved = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    accounts.accounts[key] = {"token": token, "saved": saved}
    if make_default or accounts.default is None:
        accounts.default = key
    write(accounts, path)
    return Account(key, token, accounts.default == key, saved)


def remove(url: str | None = None, *, path: Path | None = None) -> str | None:
    """Forget the account of ``url`` (None: the default one); the URL forgotten, or None.

    When the default goes, the remaining account becomes the default only if it is the only one
    (with several left, which one a bare ``Client()`` uses should be the user's choice).
    """
    accounts = read(path)
    key = url_key(url) if url else accounts.default
    if key is None or key not in accounts.accounts:
        return None
    del accounts.accounts[key]
    if accounts.default == key:
        remaining = list(accounts.accounts)
        accounts.default = remaining[0] if len(remaining) == 1 else None
    write(accounts, path)
    return key


class SavedAccounts:
    """The accounts file as a :class:`~qibo_client.settings.Source` (read when asked, each time).

    Reading on every ask keeps a long-lived kernel in step with ``qibo-client login`` run in a
    terminal beside it; the file is a few hundred bytes.
    """

    def url(self) -> str | None:
        return self._read().default

    def token_for(self, url: str) -> str | None:
        """The token saved for exactly this server, or None: never another server's."""
        entry = self._read().accounts.get(url_key(url))
        return entry["token"] if entry else None

    @staticmethod
    def _read() -> AccountsFile:
        # A damaged file must not break every Client() nor qibo's listing of backends: it is
        # then no source at all, said once per look-up (login/logout/accounts raise instead).
        try:
            return read()
        except ConfigurationError as error:
            logger.warning("%s", error)
            return AccountsFile()

    def timeout(self) -> float | None:
        return None

    def __repr__(self) -> str:
        return f"SavedAccounts({str(accounts_path())!r})"


def describe_file() -> dict[str, Any]:
    """What ``qibo-client accounts --json`` shows: the file and each account, no token."""
    path = accounts_path()
    return {
        "file": str(path),
        "accounts": [
            {"url": account.url, "default": account.default, "saved": account.saved}
            for account in read(path).listing()
        ],
    }


__all__ = [
    "CONFIG_DIR_ENV",
    "FILE_NAME",
    "Account",
    "AccountsFile",
    "SavedAccounts",
    "accounts_path",
    "config_dir",
    "describe_file",
    "read",
    "remove",
    "save",
    "url_key",
    "write",
]
