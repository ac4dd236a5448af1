"""The server's memory: one SQLite file holding users, jobs and their results.

Why these settings:

- **WAL mode with ``synchronous=NORMAL``.** A transaction is durable once it is in the write-ahead
  log; with NORMAL, SQLite skips the fsync at each commit and syncs at checkpoints. A crash of the
  server *process* (the case that matters here: killed, OOM, restarted) loses nothing committed,
  because the log is in the operating system's page cache; only a power cut or kernel crash can lose
  the last few commits. That trade buys a commit in tens of microseconds instead of milliseconds,
  which is most of the budget of a small job's round trip.
- **One connection, used only from the event-loop thread.** Every statement here is a small indexed
  read or write, faster than handing it to a thread would be, and one writer means no locking.
- **Two transactions per job:** the insert at submission (with its idempotency key, so a retried
  POST can never make two jobs) and the final update with the result. ``running`` is not written:
  after a restart every unfinished job runs again anyway.
- **Unfinished jobs are also counted in memory** (pid -> user, and a count per user), loaded once
  at open and kept by insert/finish/delete: the queue limit is checked at every POST, and a
  ``COUNT`` over the user's unfinished jobs grew with the queue (13-21% of the server's CPU in
  benchmark B2). Only this object writes the file, so the two cannot drift.
- **A batch is one transaction** (``insert_jobs``): all of its jobs exist, or none.
- **Results as JSON text** (``{"bitstring": count}``), spliced as is into answers; the ``.npy``
  archive is built only when someone downloads it.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from qibo_client.protocol import Status, sql_terminal_list
from qibo_client.server.accounts import AccountSpec, User, token_digest

#: ``status NOT IN ('error', 'success')``: the terminal set of protocol.py, never user input.
_UNFINISHED = f"status NOT IN {sql_terminal_list()}"
_INSERT_JOB = (
    "INSERT INTO jobs(pid, user_id, device, project, circuit, nshots, num_qubits, "
    "verbatim, status, created_at, updated_at, idem_key, idem_at, seed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE,
    projects TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pid TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    device TEXT NOT NULL,
    project TEXT NOT NULL,
    circuit TEXT NOT NULL,
    nshots INTEGER NOT NULL,
    num_qubits INTEGER NOT NULL,
    verbatim INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    frequencies TEXT,
    runtime REAL,
    stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '',
    idem_key TEXT,
    idem_at REAL,
    seed INTEGER,
    engine TEXT,
    collapse_outcomes TEXT
);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs(user_id, seq);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs(status) WHERE {_UNFINISHED};
CREATE TABLE IF NOT EXISTS templates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    tid TEXT NOT NULL,
    structure BLOB NOT NULL,
    UNIQUE (user_id, tid)
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idem ON jobs(user_id, idem_key) WHERE idem_key IS NOT NULL;
"""

#: Columns added after the first release, with their type: added to an older file at open.
_ADDED_COLUMNS = {"seed": "INTEGER", "engine": "TEXT", "collapse_outcomes": "TEXT"}

#: How long an Idempotency-Key keeps pointing at its first job.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


def now_iso() -> str:
    """UTC now as ISO 8601 with milliseconds (what ``dateutil.parser.isoparse`` reads)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class NewJob:
    """What the HTTP side has checked and wants stored."""

    user_id: int
    device: str
    project: str
    circuit_json: str
    nshots: int
    num_qubits: int
    verbatim: bool
    idem_key: str | None = None
    #: The seed the job asked for; None lets the worker derive one from the pid.
    seed: int | None = None


@dataclass(frozen=True)
class Usage:
    """What a user's jobs on one (project, device) have used: runtime, shots, unfinished jobs."""

    seconds: float = 0.0
    shots: int = 0
    unfinished: int = 0


class Store:
    """Typed access to the SQLite file; every method is one short transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # isolation_level=None: autocommit; multi-statement writes use explicit BEGIN.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._add_columns()
        #: pid -> user id of every job not finished, and how many each user has.
        self._unfinished: dict[str, int] = {}
        self._unfinished_per_user: Counter[int] = Counter()
        for row in self._db.execute(
            f"SELECT pid, user_id FROM jobs WHERE {_UNFINISHED}"  # noqa: S608 - constants
        ):
            self._track(str(row["pid"]), int(row["user_id"]))

    def _add_columns(self) -> None:
        """Bring a file made by an older server up to this schema (new columns are nullable)."""
        present = {str(row["name"]) for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

    def _track(self, pid: str, user_id: int) -> None:
        self._unfinished[pid] = user_id
        self._unfinished_per_user[user_id] += 1

    def _untrack(self, pid: str) -> None:
        user_id = self._unfinished.pop(pid, None)
        if user_id is not None:
            self._unfinished_per_user[user_id] -= 1

    def close(self) -> None:
        self._db.close()

    # users ------------------------------------------------------------------------------------

    def count_users(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM users").fetchone()[0])

    def first_user_email(self) -> str | None:
        row = self._db.execute("SELECT email FROM users ORDER BY id LIMIT 1").fetchone()
        return None if row is None else str(row["email"])

    def upsert_user(self, spec: AccountSpec) -> None:
        """Create the user, or give an existing email the spec's token and projects."""
        self._db.execute(
            "INSERT INTO users(email, token_sha256, projects, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(email) DO UPDATE SET token_sha256=excluded.token_sha256, "
            "projects=excluded.projects",
            (spec.email, token_digest(spec.token), json.dumps(sorted(spec.projects)), now_iso()),
        )

    def users_by_digest(self) -> dict[str, tuple[str, User]]:
        """Every user by token digest (the digest repeated for the constant-time check)."""
        users: dict[str, tuple[str, User]] = {}
        for row in self._db.execute("SELECT id, email, token_sha256, projects FROM users"):
            user = User(row["id"], row["email"], frozenset(json.loads(row["projects"])))
            users[row["token_sha256"]] = (row["token_sha256"], user)
        return users

    # jobs -------------------------------------------------------------------------------------

    def insert_job(self, job: NewJob) -> str:
        """Store a queued job in one transaction and return its pid."""
        return self.insert_jobs([job])[0]

    def insert_jobs(self, jobs: Sequence[NewJob]) -> list[str]:
        """Store queued jobs in one transaction (all or none) and return their pids in order."""
        stamp = now_iso()
        now = datetime.now(timezone.utc).timestamp()
        pids = [str(uuid.uuid4()) for _ in jobs]
        rows = [
            (
                pid,
                job.user_id,
                job.device,
                job.project,
                job.circuit_json,
                job.nshots,
                job.num_qubits,
                int(job.verbatim),
                Status.QUEUEING.value,
                stamp,
                stamp,
                job.idem_key,
                now if job.idem_key is not None else None,
                job.seed,
            )
            for pid, job in zip(pids, jobs, strict=True)
        ]
        sql = _INSERT_JOB
        if len(rows) == 1:
            self._db.execute(sql, rows[0])  # autocommit: one statement is one transaction
        else:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        for pid, job in zip(pids, jobs, strict=True):
            self._track(pid, job.user_id)
        return pids

    def find_idempotent(self, user_id: int, key: str) -> str | None:
        """The pid a key already names for this user within the window; an expired key is freed."""
        row = self._db.execute(
            "SELECT pid, idem_at FROM jobs WHERE user_id=? AND idem_key=?", (user_id, key)
        ).fetchone()
        if row is None:
            return None
        cutoff = (datetime.now(timezone.utc) - IDEMPOTENCY_WINDOW).timestamp()
        if row["idem_at"] >= cutoff:
            return str(row["pid"])
        self._db.execute("UPDATE jobs SET idem_key=NULL WHERE pid=?", (row["pid"],))
        return None

    def find_idempotent_batch(self, user_id: int, key: str) -> list[str] | None:
        """The pids a batch key already names (keys ``key + "\\n" + index``), in order, or None.

        A header value cannot hold a newline, so these keys never meet a single job's key.
        """
        rows = self._db.execute(
            "SELECT pid, idem_at FROM jobs WHERE user_id=? AND idem_key>=? AND idem_key<? "
            "ORDER BY seq",
            (user_id, key + "\n", key + "\x0b"),
        ).fetchall()
        if not rows:
            return None
        cutoff = (datetime.now(timezone.utc) - IDEMPOTENCY_WINDOW).timestamp()
        if rows[0]["idem_at"] >= cutoff:
            return [str(row["pid"]) for row in rows]
        self._db.executemany(
            "UPDATE jobs SET idem_key=NULL WHERE pid=?", [(row["pid"],) for row in rows]
        )
        return None

    def get_job(self, pid: str, user_id: int) -> sqlite3.Row | None:
        """The job, only if it belongs to ``user_id`` (anyone else's job does not exist)."""
        row: sqlite3.Row | None = self._db.execute(
            "SELECT * FROM jobs WHERE pid=? AND user_id=?", (pid, user_id)
        ).fetchone()
        return row

    def list_jobs(self, user_id: int) -> list[sqlite3.Row]:
        return self._db.execute(
            "SELECT pid, status, created_at, updated_at FROM jobs WHERE user_id=? ORDER BY seq",
            (user_id,),
        ).fetchall()

    def unfinished_jobs(self) -> list[sqlite3.Row]:
        """Jobs accepted but not finished, oldest first: the queue to rebuild at start."""
        return self._db.execute(
            f"SELECT * FROM jobs WHERE {_UNFINISHED} ORDER BY seq"  # noqa: S608 - constants
        ).fetchall()

    def finish_job(
        self,
        pid: str,
        *,
        status: str,
        frequencies_json: str | None = None,
        runtime: float | None = None,
        stdout: str = "",
        stderr: str = "",
        engine: str | None = None,
        collapse_outcomes_json: str | None = None,
    ) -> bool:
        """Record a job's end (and the engine it ran on); False if it was deleted meanwhile."""
        cursor = self._db.execute(
            "UPDATE jobs SET status=?, frequencies=?, runtime=?, stdout=?, stderr=?, engine=?, "
            "collapse_outcomes=?, updated_at=? WHERE pid=?",
            (
                status,
                frequencies_json,
                runtime,
                stdout,
                stderr,
                engine,
                collapse_outcomes_json,
                now_iso(),
                pid,
            ),
        )
        self._untrack(pid)
        return cursor.rowcount == 1

    def delete_job(self, pid: str, user_id: int) -> bool:
        cursor = self._db.execute("DELETE FROM jobs WHERE pid=? AND user_id=?", (pid, user_id))
        if cursor.rowcount != 1:
            return False
        self._untrack(pid)
        return True

    def delete_all(self, user_id: int) -> list[str]:
        rows = self._db.execute("DELETE FROM jobs WHERE user_id=? RETURNING pid", (user_id,))
        pids = [str(row["pid"]) for row in rows.fetchall()]
        for pid in pids:
            self._untrack(pid)
        return pids

    def count_queued(self, user_id: int) -> int:
        """The user's unfinished jobs (queued or running), from memory: O(1) per POST."""
        return self._unfinished_per_user[user_id]

    # templates ---------------------------------------------------------------------------------

    def put_template(self, user_id: int, template_id: str, structure: bytes) -> None:
        """Keep a template's structure (written once; a second put of it changes nothing)."""
        self._db.execute(
            "INSERT OR IGNORE INTO templates(user_id, tid, structure) VALUES (?, ?, ?)",
            (user_id, template_id, structure),
        )

    def get_template(self, user_id: int, template_id: str) -> bytes | None:
        row = self._db.execute(
            "SELECT structure FROM templates WHERE user_id=? AND tid=?", (user_id, template_id)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def all_templates(self) -> list[tuple[int, str, bytes]]:
        """Every kept template, oldest first: (user id, template id, structure)."""
        rows = self._db.execute("SELECT user_id, tid, structure FROM templates ORDER BY seq")
        return [(int(r[0]), str(r[1]), bytes(r[2])) for r in rows.fetchall()]

    def forget_template(self, user_id: int, template_id: str) -> None:
        """Drop a template, unless an unfinished job names it (it must run after a restart)."""
        self._db.execute(
            f"DELETE FROM templates WHERE user_id=? AND tid=? AND NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM jobs WHERE {_UNFINISHED} AND user_id=? AND circuit LIKE ?)",
            (user_id, template_id, user_id, f'{{"template":"{template_id}"%'),
        )

    def bytes_used(self, user_id: int) -> int:
        """Approximate storage a user's jobs take (circuits and results)."""
        row = self._db.execute(
            "SELECT coalesce(sum(length(circuit) + coalesce(length(frequencies), 0) "
            "+ length(stdout) + length(stderr)), 0) FROM jobs WHERE user_id=?",
            (user_id,),
        ).fetchone()
        return int(row[0])

    def usage(self, user_id: int, project: str, device: str) -> Usage:
        """Runtime and shots of the user's finished jobs on (project, device), and unfinished."""
        row = self._db.execute(
            "SELECT coalesce(sum(runtime), 0), "  # noqa: S608 - constants
            f"coalesce(sum(CASE WHEN {_UNFINISHED} THEN 0 ELSE nshots END), 0), "
            f"coalesce(sum(CASE WHEN {_UNFINISHED} THEN 1 ELSE 0 END), 0) "
            "FROM jobs WHERE user_id=? AND project=? AND device=?",
            (user_id, project, device),
        ).fetchone()
        return Usage(float(row[0]), int(row[1]), int(row[2]))


def row_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row is not a mapping
