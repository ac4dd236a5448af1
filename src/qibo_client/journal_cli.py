"""``qibo-client jobs`` and ``qibo-client result PID``: the journal, read back on the command line.

The journal (see :mod:`qibo_client.journal`) remembers where each job went; these commands ask
that server for the job's status or result, with the token from ``--token`` or
``QIBO_CLIENT_TOKEN`` (the journal never holds one). They are the CLI, so they print.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qibo_client.config import TOKEN_ENV, URL_ENV


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token", default=None, help=f"API token (default: ${TOKEN_ENV}); never stored"
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (test servers)"
    )


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("--url", default=None, help="only jobs sent to this server")
    parser.add_argument(
        "--limit", type=int, default=20, help="show the N most recent jobs (default 20)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="do not ask the servers for current statuses"
    )


def add_result_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("pid", help="the job id, as listed by `qibo-client jobs`")
    parser.add_argument(
        "--url", default=None, help=f"the server (default: from the journal, else ${URL_ENV})"
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="wait up to this long for it"
    )


def _client(url: str, args: argparse.Namespace) -> Any:
    from qibo_client.qibo_client import Client

    return Client(
        url,
        args.token,
        verify=not args.insecure,
        progress=False,
        check_versions=False,
        journal=False,
    )


def _server_statuses(url: str, args: argparse.Namespace) -> dict[str, str]:
    """pid -> status of every job the server lists for this user (one request per server)."""
    from collections import defaultdict

    from qibo_client.config import QiboClientError

    try:
        listing = _client(url, args).jobs()
    except QiboClientError as error:
        print(f"{url}: {error}", file=sys.stderr)  # once per server, not once per row
        return defaultdict(lambda: "?")
    return {
        str(item["pid"]): str(item.get("status", "?")).lower()
        for item in listing
        if isinstance(item, dict) and "pid" in item
    }


def jobs_main(args: argparse.Namespace) -> int:
    """A table of the most recent journal entries with their status on the server."""
    from rich.console import Console
    from rich.table import Table

    from qibo_client import journal

    rows = [e for e in journal.entries() if args.url is None or e["url"] == args.url.rstrip("/")]
    rows = rows[-args.limit :] if args.limit > 0 else rows
    table = Table(title=f"qibo-client jobs ({journal.journal_path()})")
    table.add_column("pid", no_wrap=True)  # a pid is copied and pasted: never fold it
    for column in ("server", "device", "nshots", "submitted"):
        table.add_column(column, overflow="fold")
    table.add_column("status", no_wrap=True)
    from qibo_client.settings import token_available

    can_ask = not args.offline and bool(args.token or token_available())
    statuses: dict[str, dict[str, str]] = {}  # server -> pid -> status, one listing per server
    for entry in rows:
        status = "-"
        if can_ask:
            url = entry["url"]
            if url not in statuses:
                statuses[url] = _server_statuses(url, args)
            status = statuses[url].get(str(entry["pid"]), "gone")
        table.add_row(
            str(entry["pid"]),
            str(entry["url"]),
            str(entry.get("device", "")),
            str(entry.get("nshots", "")),
            str(entry.get("submitted", "")),
            status,
        )
    Console().print(table)
    if not rows:
        print("No jobs in the journal.", file=sys.stderr)
    return 0


def result_main(args: argparse.Namespace) -> int:
    """Print one job's frequencies as JSON; exit 1 if it failed, 2 if it is not finished."""
    from qibo_client import journal
    from qibo_client.config import JobFailedError, JobTimeoutError, QiboClientError

    entry = journal.find(args.pid)
    from qibo_client.config import ConfigurationError
    from qibo_client.settings import resolve_url

    try:
        url = resolve_url(args.url or (entry["url"] if entry else None))
    except ConfigurationError:
        print(
            f"Job {args.pid} is not in the journal: pass --url or set {URL_ENV}.", file=sys.stderr
        )
        return 2
    try:
        job = _client(url, args).get_job(args.pid)
        frequencies = job.frequencies(timeout=args.wait)
    except JobFailedError as error:
        print(f"Job {args.pid} failed: {error.reason or 'no reason given'}", file=sys.stderr)
        return 1
    except JobTimeoutError:
        print(f"Job {args.pid} is not finished yet; try again later.", file=sys.stderr)
        return 2
    except QiboClientError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(json.dumps(frequencies, sort_keys=True))
    return 0


__all__ = ["add_jobs_arguments", "add_result_arguments", "jobs_main", "result_main"]
