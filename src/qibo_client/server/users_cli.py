"""``qibo-client serve users ...``: the accounts of a server, in its database, while it runs.

The commands open the same SQLite file as the server (``--db``) and change it in one short
transaction each; the server reads accounts again when the file changed (see :mod:`.store`), so
a new user, a revoked token or a new quota counts from the server's next request, without a
restart. A new token is printed once, to stdout, and never stored: only its digest is.

Exit status: 0 done, 1 nothing to do (no such user), 2 a usage error (no database, bad email).
Imports only the store (SQLite and the standard library): the commands run without the server
extra's FastAPI and uvicorn, on the machine that holds the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qibo_client.server.jobs.store import Store

#: Where ``--db`` points when the command line names none (the same default as ``serve``).
DEFAULT_DB = "qibo-cluster.sqlite3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``users`` commands, each taking ``--db`` (also accepted before ``users``)."""
    commands = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = commands.add_parser("add", help="create a user and print its token (once)")
    add.add_argument("email")
    add.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="P",
        help="a project of the user (repeat for more; 'personal' is always one)",
    )
    add.add_argument("--admin", action="store_true", help="may act on every user (web view)")
    commands.add_parser("list", help="every user: projects, admin, active or revoked")
    revoke = commands.add_parser("revoke", help="stop a user's token from working (jobs stay)")
    revoke.add_argument("email")
    quota = commands.add_parser(
        "quota", help="set a user's budget on a project (and give it the project)"
    )
    quota.add_argument("email")
    quota.add_argument("project")
    quota.add_argument("--shots", type=int, default=None, help="shots, over all its jobs")
    quota.add_argument("--jobs", type=int, default=None, help="jobs submitted")
    quota.add_argument("--seconds", type=float, default=None, help="seconds of run time")
    for command in (add, commands.choices["list"], revoke, quota):
        command.add_argument(
            "--db",
            default=argparse.SUPPRESS,
            help=f"the server's SQLite file (default: {DEFAULT_DB})",
        )


def main(args: argparse.Namespace) -> int:
    from qibo_client.server.accounts import AccountsError
    from qibo_client.server.jobs.store import Store

    db = getattr(args, "db", DEFAULT_DB)
    if args.users_command != "add" and not Path(db).is_file():
        sys.stderr.write(f"qibo-client serve users: no database at {db}: pass the server's --db\n")
        return 2
    store = Store(db)
    try:
        return _ACTIONS[args.users_command](store, args)
    except AccountsError as err:
        sys.stderr.write(f"qibo-client serve users {args.users_command}: {err}\n")
        return 2
    finally:
        store.close()


def _add(store: Store, args: argparse.Namespace) -> int:
    token = store.add_user(args.email, args.project, admin=args.admin)
    account = store.account(args.email.strip())
    assert account is not None
    role = ", admin" if account.admin else ""
    print(
        f"Created user {account.email} (projects: {', '.join(sorted(account.projects))}{role}).\n"
        f"Its API token (shown only this once):\n{token}",
        flush=True,
    )
    return 0


def _list(store: Store, args: argparse.Namespace) -> int:
    from qibo_client.cli.tables import plain_table

    rows = [
        (
            account.email,
            ",".join(sorted(account.projects)),
            "yes" if account.admin else "no",
            "revoked" if account.revoked else "active",
            account.created_at[:19],
        )
        for account in store.list_users()
    ]
    for line in plain_table(("email", "projects", "admin", "token", "created"), rows):
        print(line)
    return 0


def _revoke(store: Store, args: argparse.Namespace) -> int:
    if not store.revoke_user(args.email):
        sys.stderr.write(f"qibo-client serve users revoke: no active user {args.email}\n")
        return 1
    print(f"Revoked {args.email}: its token no longer works (its jobs stay).")
    return 0


def _quota(store: Store, args: argparse.Namespace) -> int:
    limits = store.set_quota(
        args.email, args.project, shots=args.shots, jobs=args.jobs, seconds=args.seconds
    )
    account = store.account(args.email)
    assert account is not None
    spent = store.spent(account.id, args.project)

    def shown(limit: float | None, used: float) -> str:
        return f"{used:g} of {'the default' if limit is None else f'{limit:g}'}"

    print(
        f"{args.email} on {args.project}: shots {shown(limits.shots, spent.shots)}, "
        f"jobs {shown(limits.jobs, spent.jobs)}, seconds {shown(limits.seconds, spent.seconds)}"
    )
    return 0


_ACTIONS = {"add": _add, "list": _list, "revoke": _revoke, "quota": _quota}
