"""The store's account half: users, their tokens and quotas, and what their projects have spent.

A mixin of :class:`~qibo_client.server.jobs.store.Store`, on its one SQLite connection (one
writer, the event loop's thread). Kept in a module of its own because an operator's accounts and
the jobs' rows are two jobs: this half is what ``qibo-client serve users`` and the web view's
admin page act on, through the account API the store's docstring lists.

Another process may change accounts (``qibo-client serve users`` on a running server's file), so
users and quotas are cached in memory and read again when SQLite's ``PRAGMA data_version`` says
another connection committed: one cheap pragma per token lookup. A revoked user keeps its row (its
jobs reference it) and its token stops working. Tokens are stored as SHA-256 digests only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from qibo_client.protocol import DEFAULT_PROJECT
from qibo_client.server.accounts import (
    AccountsError,
    AccountSpec,
    User,
    check_email,
    digests_match,
    new_token,
    token_digest,
)


def now_iso() -> str:
    """UTC now as ISO 8601 with milliseconds (what ``dateutil.parser.isoparse`` reads)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Account:
    """A user as an operator sees it (``users list``, the web view's admin page): never a token."""

    id: int
    email: str
    projects: frozenset[str]
    admin: bool
    revoked: bool
    created_at: str


@dataclass(frozen=True)
class QuotaRow:
    """A user's limits on one project; None: the server's default (``ServerConfig.quotas``)."""

    shots: int | None = None
    jobs: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Spent:
    """What a user's jobs on one project have spent: shots and jobs at submission, seconds of
    runtime at their end. Deleting a job gives nothing back."""

    shots: int = 0
    jobs: int = 0
    seconds: float = 0.0


class AccountRecords:
    """Users, quotas and the spending ledger, on the store's connection (``Store`` sets these)."""

    _db: sqlite3.Connection
    #: SQLite's ``data_version`` when users and quotas were last read (-1: read them again).
    _seen_version: int
    _users: dict[str, tuple[str, User]]
    _quotas: dict[tuple[int, str], QuotaRow]

    def count_users(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM users").fetchone()[0])

    def first_user_email(self) -> str | None:
        row = self._db.execute("SELECT email FROM users ORDER BY id LIMIT 1").fetchone()
        return None if row is None else str(row["email"])

    def upsert_user(self, spec: AccountSpec) -> None:
        """Import a user (an accounts file): create it, or add the spec's projects to it and
        give it the spec's token. A user revoked since stays revoked while the file still
        holds its old token; a new token in the file brings it back."""
        self._db.execute(
            "INSERT INTO users(email, token_sha256, projects, created_at, admin) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(email) DO UPDATE SET "
            "revoked_at=CASE WHEN token_sha256=excluded.token_sha256 THEN revoked_at END, "
            "token_sha256=excluded.token_sha256, projects=excluded.projects, "
            "admin=max(admin, excluded.admin)",
            (
                spec.email,
                token_digest(spec.token),
                json.dumps(sorted(spec.projects | self._projects_of(spec.email))),
                now_iso(),
                int(spec.admin),
            ),
        )
        self._seen_version = -1

    def _projects_of(self, email: str) -> frozenset[str]:
        row = self._db.execute("SELECT projects FROM users WHERE email=?", (email,)).fetchone()
        return frozenset() if row is None else frozenset(json.loads(row["projects"]))

    def add_user(self, email: str, projects: Iterable[str] = (), admin: bool = False) -> str:
        """Create a user (project ``personal`` plus ``projects``) and return its new token, the
        only time it exists outside its holder's hands. A revoked user comes back with the new
        token; an active one is an :class:`AccountsError` (revoke it first to replace its token).
        """
        email = check_email(email)
        existing = self.account(email)
        if existing is not None and not existing.revoked:
            raise AccountsError(f"user {email} exists; revoke it first to give it a new token")
        token = new_token()
        given = frozenset(projects) | {DEFAULT_PROJECT}
        self.upsert_user(AccountSpec(email, token, given, admin))
        if existing is not None:  # back from revoked: as asked, not as it was
            self._db.execute("UPDATE users SET admin=? WHERE email=?", (int(admin), email))
        return token

    def revoke_user(self, email: str) -> bool:
        """Stop the user's token from working (its jobs stay); False if no such active user."""
        cursor = self._db.execute(
            "UPDATE users SET revoked_at=? WHERE email=? AND revoked_at IS NULL",
            (now_iso(), email),
        )
        self._seen_version = -1
        return cursor.rowcount == 1

    def set_quota(
        self,
        email: str,
        project: str,
        *,
        shots: int | None = None,
        jobs: int | None = None,
        seconds: float | None = None,
    ) -> QuotaRow:
        """Set the user's limits on ``project`` (None leaves a limit as it is) and give the user
        the project if it had not; returns the limits now stored."""
        account = self.account(email)
        if account is None:
            raise AccountsError(
                f"no user {email}; add it with: qibo-client serve users add {email}"
            )
        for name, value in (("shots", shots), ("jobs", jobs), ("seconds", seconds)):
            if value is not None and value < 0:
                raise AccountsError(f"a {name} quota must be 0 or more, not {value}")
        self._db.execute("BEGIN")
        try:
            self._db.execute(
                "INSERT INTO quotas(user_id, project, shots, jobs, seconds) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(user_id, project) DO UPDATE SET "
                "shots=coalesce(excluded.shots, shots), jobs=coalesce(excluded.jobs, jobs), "
                "seconds=coalesce(excluded.seconds, seconds)",
                (account.id, project, shots, jobs, seconds),
            )
            projects = json.dumps(sorted(account.projects | {project}))
            self._db.execute("UPDATE users SET projects=? WHERE id=?", (projects, account.id))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._seen_version = -1
        return self.quota_of(account.id, project)

    def list_users(self) -> list[Account]:
        """Every user, revoked ones included, in the order they were made."""
        rows = self._db.execute("SELECT * FROM users ORDER BY id").fetchall()
        return [_account(row) for row in rows]

    def account(self, email: str) -> Account | None:
        row = self._db.execute("SELECT * FROM users WHERE email=?", (email,)).fetchone()
        return None if row is None else _account(row)

    def _refresh(self) -> None:
        """Read users and quotas again if any connection (another process) changed the file."""
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if version == self._seen_version:
            return
        users: dict[str, tuple[str, User]] = {}
        for row in self._db.execute(
            "SELECT id, email, token_sha256, projects, admin FROM users WHERE revoked_at IS NULL"
        ):
            projects = frozenset(json.loads(row["projects"]))
            user = User(row["id"], row["email"], projects, bool(row["admin"]))
            users[row["token_sha256"]] = (row["token_sha256"], user)
        self._users = users
        self._quotas = {
            (int(row["user_id"]), str(row["project"])): QuotaRow(
                row["shots"], row["jobs"], row["seconds"]
            )
            for row in self._db.execute("SELECT * FROM quotas")
        }
        self._seen_version = version

    def user_for(self, token: str) -> User | None:
        """The active user a token belongs to, or None (the digest compared in constant time)."""
        self._refresh()
        digest = token_digest(token)
        entry = self._users.get(digest)
        if entry is None or not digests_match(digest, entry[0]):
            return None
        return entry[1]

    def users_by_digest(self) -> dict[str, tuple[str, User]]:
        """Every active user by token digest (the digest repeated for the constant-time check)."""
        self._refresh()
        return dict(self._users)

    def quota_of(self, user_id: int, project: str) -> QuotaRow:
        """The user's limits on ``project`` (None fields: the server's default applies)."""
        self._refresh()
        return self._quotas.get((user_id, project), QuotaRow())

    def spent(self, user_id: int, project: str) -> Spent:
        """What the user's jobs on ``project`` have spent, from the ledger."""
        row = self._db.execute(
            "SELECT shots, jobs, seconds FROM spent WHERE user_id=? AND project=?",
            (user_id, project),
        ).fetchone()
        return Spent() if row is None else Spent(int(row[0]), int(row[1]), float(row[2]))


def _account(row: sqlite3.Row) -> Account:
    return Account(
        int(row["id"]),
        str(row["email"]),
        frozenset(json.loads(row["projects"])),
        bool(row["admin"]),
        row["revoked_at"] is not None,
        str(row["created_at"]),
    )


__all__ = ["Account", "AccountRecords", "QuotaRow", "Spent", "now_iso"]
