"""A local, append-only journal of submitted jobs, so that results outlive the script.

A script that crashes (or a laptop that sleeps) after submitting loses its ``Job`` objects, not
its jobs: every submission appends one JSON line (server URL, pid, device, project, nshots, time,
and the job's name and tags if it has them)
to ``jobs.jsonl`` in the user's cache directory, and ``qibo-client jobs`` / ``qibo-client result``
read it back. The token is never written: the commands take it from the environment.

One ``write`` call per line on a file opened in append mode keeps concurrent writers from
interleaving lines on POSIX, without locks; no fsync, because this sits on the submission path.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger("qibo_client.jobs.journal")

#: Overrides the cache directory (tests, shared machines).
CACHE_DIR_ENV = "QIBO_CLIENT_CACHE_DIR"
JOURNAL_NAME = "jobs.jsonl"


def journal_path() -> Path:
    """Where the journal lives: ``$QIBO_CLIENT_CACHE_DIR`` or the platform's user cache dir."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override) / JOURNAL_NAME
    import platformdirs

    return Path(platformdirs.user_cache_dir("qibo-client")) / JOURNAL_NAME


def record(
    url: str,
    pid: str,
    *,
    device: str,
    project: str,
    nshots: int | None,
    path: Path | None = None,
    name: str | None = None,
    tags: Sequence[str] = (),
) -> None:
    """Append one submission (its ``name`` and ``tags`` when it has them). A journal that cannot
    be written is logged, never fatal."""
    entry: dict[str, Any] = {
        "url": url,
        "pid": pid,
        "device": device,
        "project": project,
        "nshots": nshots,
        "submitted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if name is not None:
        entry["name"] = name
    if tags:
        entry["tags"] = list(tags)
    line = json.dumps(entry, separators=(",", ":")) + "\n"
    target = path or journal_path()
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line)
    except FileNotFoundError:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            logger.warning("Could not write the job journal %s: %s", target, exc)
    except OSError as exc:
        logger.warning("Could not write the job journal %s: %s", target, exc)


def entries(path: Path | None = None) -> Iterator[dict[str, Any]]:
    """The journal's entries, oldest first; damaged lines are skipped with a warning."""
    target = path or journal_path()
    if not target.exists():
        return
    with open(target, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                logger.warning("Skipping damaged line %d of %s", number, target)
                continue
            if isinstance(entry, dict) and "pid" in entry and "url" in entry:
                yield entry


def find(pid: str, path: Path | None = None) -> dict[str, Any] | None:
    """The latest entry for ``pid``, or None."""
    found = None
    for entry in entries(path):
        if entry["pid"] == pid:
            found = entry
    return found


__all__ = ["CACHE_DIR_ENV", "entries", "find", "journal_path", "record"]
