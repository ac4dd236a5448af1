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
- **Accounts live in the same file, and another process may change them** (``qibo-client serve
  users``, the web view's admin page): their methods are the mixin
  :class:`~qibo_client.server.jobs.accounts_store.AccountRecords`, which says how a change made
  elsewhere takes effect on the next request, without a restart.
- **What a project has spent is a ledger** (table ``spent``), kept by triggers in the same
  statement as the job's insert (shots, jobs) and its end (seconds): deleting a job gives nothing
  back, and a batch's spending is all or nothing with its jobs.

The account API (used by the CLI and the web view; names kept stable)::

    add_user(email, projects=(), admin=False) -> token    # printed once, stored as a digest
    revoke_user(email) -> bool
    set_quota(email, project, shots=, jobs=, seconds=)   # None: leave as is; grants the project
    list_users() -> list[Account]
    account(email) -> Account | None
    quota_of(user_id, project) -> QuotaRow               # None fields: the server's default
    spent(user_id, project) -> Spent
    list_jobs(user_id, tag=None) -> rows (with name, tags)
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qibo_client.protocol import Status, sql_terminal_list
from qibo_client.server.accounts import (
    User,
)
from qibo_client.server.jobs.accounts_store import (
    AccountRecords,
    QuotaRow,
    now_iso,
)

#: ``status NOT IN ('error', 'success')``: the terminal set of protocol.py, never user input.
_UNFINISHED = f"status NOT IN {sql_terminal_list()}"
_INSERT_JOB = (
    "INSERT INTO jobs(pid, user_id, device, project, circuit, nshots, num_qubits, "
    "verbatim, status, created_at, updated_at, idem_key, idem_at, seed, name, tags) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
CREATE TABLE IF NOT EXISTS quotas (
    user_id INTEGER NOT NULL REFERENCES users(id),
    project TEXT NOT NULL,
    shots INTEGER,
    jobs INTEGER,
    seconds REAL,
    PRIMARY KEY (user_id, project)
);
"""

#: The ledger and the triggers that keep it (created after the added columns exist).
_LEDGER = """
CREATE TABLE IF NOT EXISTS spent (
    user_id INTEGER NOT NULL,
    project TEXT NOT NULL,
    shots INTEGER NOT NULL DEFAULT 0,
    jobs INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, project)
);
CREATE TRIGGER IF NOT EXISTS spend_at_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO spent(user_id, project, shots, jobs)
    VALUES (NEW.user_id, NEW.project, NEW.nshots, 1)
    ON CONFLICT(user_id, project) DO UPDATE SET shots = shots + NEW.nshots, jobs = jobs + 1;
END;
CREATE TRIGGER IF NOT EXISTS spend_at_end AFTER UPDATE OF runtime ON jobs
WHEN NEW.runtime IS NOT NULL AND OLD.runtime IS NULL BEGIN
    UPDATE spent SET seconds = seconds + NEW.runtime
    WHERE user_id = NEW.user_id AND project = NEW.project;
END;
"""
#: A file made before the ledger: what its jobs spent, counted once when the ledger is made.
_LEDGER_FROM_JOBS = (
    "INSERT INTO spent(user_id, project, shots, jobs, seconds) "
    "SELECT user_id, project, sum(nshots), count(*), coalesce(sum(runtime), 0) FROM jobs "
    "GROUP BY user_id, project"
)

#: Columns added after the first release, per table, with their type: added to an older file at
#: open (all nullable or defaulted).
_ADDED_COLUMNS = {
    "jobs": {
        "seed": "INTEGER",
        "engine": "TEXT",
        "name": "TEXT",
        "tags": "TEXT",
        "collapse_outcomes": "TEXT",
    },
    "users": {"admin": "INTEGER NOT NULL DEFAULT 0", "revoked_at": "TEXT"},
}

#: How long an Idempotency-Key keeps pointing at its first job.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


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
    #: The job's name and tags (the ``tags`` extension), already validated.
    name: str | None = None
    tags: tuple[str, ...] = ()


class Store(AccountRecords):
    """Typed access to the SQLite file; every method is one short transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # isolation_level=None: autocommit; multi-statement writes use explicit BEGIN.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        had_ledger = self._has_table("spent")
        self._db.executescript(_SCHEMA)
        self._add_columns()
        self._db.executescript(_LEDGER)
        if not had_ledger:
            self._db.execute(_LEDGER_FROM_JOBS)
        #: Users by token digest and quotas, read again when another connection commits.
        self._seen_version = -1
        self._users: dict[str, tuple[str, User]] = {}
        self._quotas: dict[tuple[int, str], QuotaRow] = {}
        #: pid -> user id of every job not finished, and how many each user has.
        self._unfinished: dict[str, int] = {}
        self._unfinished_per_user: Counter[int] = Counter()
        for row in self._db.execute(
            f"SELECT pid, user_id FROM jobs WHERE {_UNFINISHED}"  # noqa: S608 - constants
        ):
            self._track(str(row["pid"]), int(row["user_id"]))

    def _has_table(self, name: str) -> bool:
        row = self._db.execute("SELECT 1 FROM sqlite_master WHERE name=?", (name,)).fetchone()
        return row is not None

    def _add_columns(self) -> None:
        """Bring a file made by an older server up to this schema (new columns are nullable)."""
        for table, columns in _ADDED_COLUMNS.items():
            present = {str(row["name"]) for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _track(self, pid: str, user_id: int) -> None:
        self._unfinished[pid] = user_id
        self._unfinished_per_user[user_id] += 1

    def _untrack(self, pid: str) -> None:
        user_id = self._unfinished.pop(pid, None)
        if user_id is not None:
            self._unfinished_per_user[user_id] -= 1

    def close(self) -> None:
        self._db.close()

    # jobs -------------------------------------------------------------------------------------

    def insert_job(self, job: NewJob) -> str:
        """Store a queued job in one transaction and return its pid."""
        return self.insert_jobs([job])[0]

    def insert_jobs(self, jobs: Sequence[NewJob]) -> list[str]:
        """Store queued jobs in one transaction (all or none) and return their pids in order."""
        stamp = now_iso()
        now = datetime.now(UTC).timestamp()
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
                job.name,
                json.dumps(list(job.tags), separators=(",", ":")) if job.tags else None,
            )
            for pid, job in zip(pids, jobs, strict=True)
        ]
        sql = _INSERT_JOB
        if len(rows) == 1:
            # autocommit: one statement (and its ledger trigger) is one transaction
            self._db.execute(sql, rows[0])
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
        cutoff = (datetime.now(UTC) - IDEMPOTENCY_WINDOW).timestamp()
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
        cutoff = (datetime.now(UTC) - IDEMPOTENCY_WINDOW).timestamp()
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

    def list_jobs(self, user_id: int, tag: str | None = None) -> list[sqlite3.Row]:
        """The user's jobs, oldest first; with ``tag``, only those carrying it."""
        columns = "pid, status, created_at, updated_at, name, tags, device, project, nshots"
        if tag is None:
            return self._db.execute(
                f"SELECT {columns} FROM jobs WHERE user_id=? ORDER BY seq",  # noqa: S608
                (user_id,),
            ).fetchall()
        return self._db.execute(
            f"SELECT {columns} FROM jobs WHERE user_id=? AND tags IS NOT NULL AND EXISTS "  # noqa: S608
            "(SELECT 1 FROM json_each(jobs.tags) WHERE json_each.value=?) ORDER BY seq",
            (user_id, tag),
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

    # the web view and the metrics (read only) ---------------------------------------------------

    def view_jobs(
        self,
        user_id: int,
        *,
        status: str | None = None,
        device: str | None = None,
        tag: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 200,
    ) -> tuple[list[sqlite3.Row], int]:
        """The user's jobs matching the filters, newest first (at most ``limit``), and how many
        match in all. ``since``/``until``: ISO dates or times, compared with ``created_at``;
        ``status`` compares the stored status (a running job is stored as queued); ``tag``: jobs
        carrying that tag."""
        where: list[str] = ["user_id=?"]
        args: list[int | str] = [user_id]
        for clause, value in (
            ("status=?", status),
            ("device=?", device),
            ("tags IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE value=?)", tag),
            ("created_at>=?", since),
            ("created_at<?", until),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        condition = " AND ".join(where)
        total = self._db.execute(
            f"SELECT count(*) FROM jobs WHERE {condition}",  # noqa: S608 - fixed clauses
            args,
        ).fetchone()[0]
        columns = (
            "pid, status, device, project, nshots, num_qubits, created_at, runtime, engine, "
            "name, tags"
        )
        rows = self._db.execute(
            f"SELECT {columns} FROM jobs WHERE {condition} "  # noqa: S608 - fixed clauses
            "ORDER BY seq DESC LIMIT ?",
            [*args, limit],
        ).fetchall()
        return rows, int(total)

    def job_counts(self) -> list[sqlite3.Row]:
        """How many finished jobs each (status, device, engine) has."""
        return self._db.execute(
            f"SELECT status, device, coalesce(engine, '') AS engine, count(*) AS n FROM jobs "  # noqa: S608
            f"WHERE NOT ({_UNFINISHED}) GROUP BY status, device, engine"
        ).fetchall()

    def unfinished_devices(self) -> list[sqlite3.Row]:
        """The pid and device of every job not finished (the partial index ``jobs_unfinished``)."""
        return self._db.execute(
            f"SELECT pid, device FROM jobs WHERE {_UNFINISHED}"  # noqa: S608 - constants
        ).fetchall()

    def job_times(self, pid: str) -> sqlite3.Row | None:
        """A job's device and timestamps, whoever owns it (for the metrics, never shown)."""
        row: sqlite3.Row | None = self._db.execute(
            "SELECT device, created_at, updated_at FROM jobs WHERE pid=?", (pid,)
        ).fetchone()
        return row
