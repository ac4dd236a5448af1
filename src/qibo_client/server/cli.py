"""``qibo-client serve``: run the reference cluster server.

This module is imported to build the ``qibo-client`` parser, so it imports nothing heavy at the top:
uvicorn, FastAPI and the server load inside :func:`main`.

With no accounts configured and an empty database, ``serve`` creates one user and prints its token,
once: the only thing the server ever prints. Later starts on the same database only say which user
exists (the token is not stored, only its digest, so it cannot be shown again).

``serve users add|list|revoke|quota`` act on the accounts of that database, also while a server
runs on it (:mod:`.users_cli`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from qibo_client.server.profiles import PROFILES, profile_named

logger = logging.getLogger("qibo_client.server")

DEFAULT_DB = "qibo-cluster.sqlite3"
#: ``qibo-client serve`` logs one line per request (INFO) unless told otherwise.
LOG_LEVEL = logging.INFO
#: uvicorn's own start-up and shutdown lines ("Uvicorn running on ...") go to the same handler.
EXTRA_LOGGERS = ("uvicorn.error",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLite file for users, jobs, results")
    parser.add_argument(
        "--workers",
        type=int,
        default=max(1, (os.cpu_count() or 2) - 1),
        help="simulation worker processes (0 queues jobs without running them)",
    )
    parser.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run jobs on this Dask scheduler's workers (tcp://host:8786) instead of local "
        "processes; needs pip install 'qibo-client[dask]'",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="numba threads per job (default: cores divided by the jobs that run at once)",
    )
    parser.add_argument(
        "--engine",
        default="auto",
        choices=("auto", "numpy", "qibojit"),
        help="simulation engine of the simulator devices (auto: qibojit if installed, else numpy)",
    )
    parser.add_argument(
        "--qibolab",
        default=None,
        metavar="PLATFORM[,PLATFORM...]",
        help="offer these qibolab platforms as devices of the same names, found in the folders "
        "of $QIBOLAB_PLATFORMS ('dummy' is built in); needs the [hardware] extra",
    )
    parser.add_argument(
        "--accounts",
        default=None,
        help="JSON file of users and tokens (default: $QIBO_SERVER_ACCOUNTS)",
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=1 << 20, help="largest request body accepted"
    )
    parser.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        default="default",
        help="default: our protocol with its extensions; tii: only what TII's service is known "
        "to speak (circuit.raw, no holds, batches or idempotency keys, 404 for a bad token); "
        "tii-2026: tii as TII's 2026 service speaks it (counts in the job object, no download)",
    )
    from qibo_client.server import users_cli

    commands = parser.add_subparsers(dest="serve_command", metavar="[users]")
    users = commands.add_parser(
        "users",
        help="add, list or revoke users and set their quotas, in --db (also while it serves)",
        description="Accounts in the server's database; a running server sees changes at once.",
    )
    users_cli.add_arguments(users)


def _parse(argv: Sequence[str] | argparse.Namespace | None) -> argparse.Namespace:
    if isinstance(argv, argparse.Namespace):
        return argv
    parser = argparse.ArgumentParser(prog="qibo-client serve")
    add_arguments(parser)
    return parser.parse_args(argv)


def _with_platforms(devices: Any, names: Any) -> Any:
    """``devices`` plus one device per qibolab platform; ValueError says why one cannot be had
    (no ``[hardware]`` extra, an unknown platform, a name already taken)."""
    from qibo_client.server.platforms import HardwareExtraMissingError, platform_devices

    try:
        return devices.with_devices(platform_devices(names))
    except HardwareExtraMissingError as err:
        raise ValueError(str(err)) from None


def _first_user(db: str) -> None:
    """Create ``admin@localhost`` in an empty database and print its token, once."""
    from qibo_client.server.accounts import DEFAULT_PROJECT, AccountSpec, new_token
    from qibo_client.server.jobs.store import Store

    store = Store(db)
    try:
        if store.count_users() == 0:
            token = new_token()
            store.upsert_user(AccountSpec("admin@localhost", token, frozenset({DEFAULT_PROJECT})))
            print(
                f"Created user admin@localhost in {db}.\n"
                f"Its API token (shown only this once):\n{token}",
                flush=True,
            )
        else:
            logger.info(
                "using the users already in %s (first: %s); their tokens are not shown again",
                db,
                store.first_user_email(),
            )
    finally:
        store.close()


def main(argv: Sequence[str] | argparse.Namespace | None = None) -> int:
    """Serve until interrupted. Accepts the dispatcher's Namespace or a list of arguments."""
    args = _parse(argv)
    if getattr(args, "serve_command", None) == "users":
        from qibo_client.server import users_cli

        return users_cli.main(args)
    from qibo_client.server import ServerExtraMissingError, require_server_extra

    try:
        require_server_extra("qibo-client serve")
    except ServerExtraMissingError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    try:
        import uvicorn

        from qibo_client.server.accounts import (
            ACCOUNTS_ENV,
            AccountsError,
            AccountSpec,
            load_accounts,
        )
        from qibo_client.server.api.app import ServerConfig, create_app
        from qibo_client.server.devices import DEFAULT_DEVICES
        from qibo_client.server.jobs.executors import DaskUnavailableError, require_dask
    except ImportError as err:
        sys.stderr.write(f"qibo-client serve: the server does not import ({err})\n")
        return 2

    try:
        if args.dask:
            require_dask()
        devices = DEFAULT_DEVICES.with_engine(args.engine)
        if args.qibolab:
            devices = _with_platforms(devices, args.qibolab)
    except (DaskUnavailableError, ValueError) as err:
        sys.stderr.write(f"qibo-client serve: {err}\n")
        return 2

    accounts_path = args.accounts or os.environ.get(ACCOUNTS_ENV)
    specs: list[AccountSpec] = []
    if accounts_path:
        try:
            specs = load_accounts(accounts_path)
        except AccountsError as err:
            sys.stderr.write(f"qibo-client serve: {err}\n")
            return 2
    else:
        _first_user(args.db)

    config = ServerConfig(
        db_path=args.db,
        workers=args.workers,
        accounts=specs,
        max_body_bytes=args.max_body_bytes,
        profile=profile_named(args.profile),
        devices=devices,
        dask=args.dask,
        threads=args.threads,
    )
    logger.info(
        "serving on http://%s:%d (db %s, profile %s; jobs on %s)",
        args.host,
        args.port,
        args.db,
        args.profile,
        f"Dask scheduler {args.dask}" if args.dask else f"{args.workers} local worker(s)",
    )
    if args.qibolab:
        logger.info("qibolab platforms, one job at a time each: %s", args.qibolab)
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    return 0
