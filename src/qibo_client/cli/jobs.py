"""``qibo-client jobs`` and ``qibo-client result PID``: the journal, read back on the command line.

The journal (see :mod:`qibo_client.jobs.journal`) remembers where each job went; these commands ask
that server for the job's status or result. The journal never holds a token, and each server is
asked with its own only: ``--token`` belongs to ``--url`` (else to the environment's server), and
``QIBO_CLIENT_TOKEN`` to ``QIBO_CLIENT_URL`` (else the default service). A job on a server with no
token shows as "no token for this server"; "unreachable", "token refused" and "deleted" (the
server answered and no longer lists it) are told apart. They are the CLI, so they print.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qibo_client.config import TOKEN_ENV, URL_ENV


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token",
        default=None,
        help=f"API token for --url, else for ${URL_ENV}'s server (default: ${TOKEN_ENV}); "
        "sent to no other server, never stored",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (test servers)"
    )


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("--url", default=None, help="only jobs sent to this server")
    parser.add_argument(
        "--limit", type=int, default=20, help="show the N most recent jobs (0: all)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="do not ask the servers for current statuses"
    )
    parser.add_argument(
        "--tag", default=None, metavar="TAG", help="only jobs submitted with this tag"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_result_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("pid", help="the job id, as listed by `qibo-client jobs`")
    parser.add_argument(
        "--url", default=None, help=f"the server (default: from the journal, else ${URL_ENV})"
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="wait up to this long for it"
    )


#: What ``qibo-client jobs`` shows for a job it could not ask about, by reason.
NO_TOKEN = "no token for this server"  # noqa: S105 - a status shown, not a token
UNREACHABLE = "unreachable"
TOKEN_REFUSED = "token refused"  # noqa: S105 - a status shown, not a token
#: The server answered and does not list the job any more.
DELETED = "deleted"


def _token_for(url: str, args: argparse.Namespace) -> str | None:
    """The token for ``url``: ``--token`` belongs to ``--url`` (else to the environment's
    server); any other server gets only a token the settings hold for it."""
    from qibo_client.settings import Environment, same_server, token_for

    if args.token and same_server(url, args.url or Environment().home()):
        return str(args.token)
    return token_for(url)


def _client(url: str, token: str, args: argparse.Namespace) -> Any:
    from qibo_client.qibo_client import Client

    return Client(
        url,
        token,
        verify=not args.insecure,
        progress=False,
        check_versions=False,
        journal=False,
    )


def _server_statuses(url: str, args: argparse.Namespace) -> tuple[dict[str, str], str]:
    """pid -> status of every job the server lists for this user (one request per server), or
    why there is none: no token for it, unreachable, token refused."""
    from qibo_client.errors import AuthenticationError, QiboClientError, TransportError

    token = _token_for(url, args)
    if token is None:
        return {}, NO_TOKEN
    try:
        listing = _client(url, token, args).jobs()
    except QiboClientError as error:
        print(f"{url}: {error}", file=sys.stderr)  # once per server, not once per row
        if isinstance(error, TransportError):
            return {}, UNREACHABLE
        return {}, TOKEN_REFUSED if isinstance(error, AuthenticationError) else "?"
    statuses = {
        str(item["pid"]): str(item.get("status", "?")).lower()
        for item in listing
        if isinstance(item, dict) and "pid" in item
    }
    return statuses, ""


def jobs_main(args: argparse.Namespace) -> int:
    """The most recent journal entries with their status on the server, grouped by server.

    Plain columns (:mod:`qibo_client.cli.tables`) that fit 80 columns and survive a pipe, or
    ``--json``. Each server is asked with its own token only (see :func:`_token_for`); a job on a
    server without one shows as "no token for this server", never as deleted. Entries that
    ``--limit`` leaves out are counted on stderr, so nothing is hidden silently.
    """
    from qibo_client.cli.tables import plain_table
    from qibo_client.jobs import journal
    from qibo_client.settings import same_server

    matching = [
        e
        for e in journal.entries()
        if (args.url is None or same_server(e["url"], args.url))
        and (args.tag is None or args.tag in (e.get("tags") or ()))
    ]
    rows = matching[-args.limit :] if args.limit > 0 else matching
    known: dict[str, tuple[dict[str, str], str]] = {}  # server -> (pid -> status, problem)
    listed: list[dict[str, Any]] = []
    for entry in rows:
        status = "-"
        if not args.offline:
            url = entry["url"]
            if url not in known:
                known[url] = _server_statuses(url, args)
            statuses, problem = known[url]
            status = problem or statuses.get(str(entry["pid"]), DELETED)
        listed.append({**entry, "status": status})
    if args.json:
        print(json.dumps(listed, indent=2))
    else:
        servers: dict[str, list[dict[str, Any]]] = {}
        for entry in listed:
            servers.setdefault(str(entry["url"]), []).append(entry)
        for number, (url, entries) in enumerate(servers.items()):
            print(("\n" if number else "") + url)
            labelled = any(entry.get("name") or entry.get("tags") for entry in entries)
            table = [
                (
                    entry["pid"],
                    entry.get("device", ""),
                    "" if entry.get("nshots") is None else entry["nshots"],
                    str(entry.get("submitted", ""))[:16].replace("T", " "),
                    *((_labels(entry),) if labelled else ()),
                    entry["status"],
                )
                for entry in entries
            ]
            headers: tuple[str, ...] = ("pid", "device", "shots", "submitted (UTC)")
            headers += ("name [tags]", "status") if labelled else ("status",)
            print("\n".join(plain_table(headers, table)))
    hidden = len(matching) - len(rows)
    if not matching:
        tagged = f" tagged {args.tag!r}" if args.tag is not None else ""
        print(f"No jobs{tagged} in the journal ({journal.journal_path()}).", file=sys.stderr)
    elif hidden:
        print(
            f"{hidden} older job(s) not shown (--limit {args.limit}); --limit 0 shows all.",
            file=sys.stderr,
        )
    return 0


def _labels(entry: dict[str, Any]) -> str:
    """A job's name and tags in one cell: ``vqe-tuesday [vqe,h2]`` (``-`` for neither)."""
    name = str(entry.get("name") or "")
    tags = entry.get("tags") or []
    shown = f"{name} [{','.join(map(str, tags))}]".strip() if tags else name
    return shown or "-"


def result_main(args: argparse.Namespace) -> int:
    """Print one job's frequencies as JSON; exit 1 if it failed, 2 if it is not finished."""
    from qibo_client.errors import JobFailedError, JobTimeoutError, QiboClientError, WaitInterrupted
    from qibo_client.jobs import journal

    entry = journal.find(args.pid)
    from qibo_client.errors import ConfigurationError
    from qibo_client.settings import resolve_url

    try:
        url = resolve_url(args.url or (entry["url"] if entry else None))
    except ConfigurationError:
        print(
            f"Job {args.pid} is not in the journal: pass --url or set {URL_ENV}.", file=sys.stderr
        )
        return 2
    token = _token_for(url, args)
    if token is None:
        print(
            f"No token for {url}: pass --url {url} --token TOKEN (a token is sent only to the "
            f"server it is given for; {TOKEN_ENV} is for {URL_ENV}, else the default service).",
            file=sys.stderr,
        )
        return 2
    try:
        job = _client(url, token, args).get_job(args.pid)
        frequencies = job.frequencies(timeout=args.wait)
    except WaitInterrupted as interrupt:
        print(str(interrupt), file=sys.stderr)
        return 130
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
