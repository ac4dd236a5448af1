"""``qibo-client login``, ``logout`` and ``accounts``: saved tokens on the command line.

``login`` reads the token without echo (``getpass``) when stdin is a terminal, else one line from
stdin (``pass show qibo | qibo-client login --url ...``), asks the server once whether it accepts
it, and saves it only if it does. No command here ever prints a token. The file itself is
:mod:`qibo_client.accounts`; these are the CLI, so they print.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable

from qibo_client.accounts import Account, accounts_path, describe_file, remove, save
from qibo_client.config import TII_URL
from qibo_client.errors import QiboClientError


def add_login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=None,
        help=f"the server to log in to (default: $QIBO_CLIENT_URL, else {TII_URL})",
    )
    parser.add_argument(
        "--no-default",
        dest="make_default",
        action="store_false",
        help="keep the current default account (the first account saved is always the default)",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (test servers)"
    )


def add_logout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=None, help="the server to forget (default: the default account)"
    )


def add_accounts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def read_token(url: str) -> str:
    """The token, typed without echo at a terminal, else the first line of stdin."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Token for {url} (input hidden): ")
    return sys.stdin.readline() if sys.stdin is not None else ""


def login(
    url: str,
    token_reader: Callable[[str], str] = read_token,
    *,
    verify: bool = True,
    make_default: bool = True,
) -> Account:
    """Read a token, check it against ``url`` with one request, save it; errors are typed.

    Nothing is saved when the server refuses the token (AuthenticationError) or cannot be reached
    (TransportError).
    """
    from qibo_client.errors import ConfigurationError
    from qibo_client.qibo_client import Client

    token = token_reader(url).strip()
    if not token:
        raise ConfigurationError("no token given: nothing saved")
    with Client(
        url, token, verify=verify, progress=False, check_versions=False, journal=False
    ) as client:
        client.api.project_quotas()  # needs a valid token: 401 for a wrong one
    return save(client.url, token, make_default=make_default)


def login_main(args: argparse.Namespace) -> int:
    from qibo_client.settings import check_url, service_url

    try:
        url = check_url(args.url) if args.url else service_url(TII_URL)
        account = login(url, verify=not args.insecure, make_default=args.make_default)
    except QiboClientError as error:
        print(f"qibo-client login: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nqibo-client login: cancelled, nothing saved", file=sys.stderr)
        return 130
    role = "the default account" if account.default else "not the default account"
    print(f"Logged in to {account.url} ({role}); token saved in {accounts_path()}")
    return 0


def logout_main(args: argparse.Namespace) -> int:
    try:
        forgotten = remove(args.url)
    except QiboClientError as error:
        print(f"qibo-client logout: {error}", file=sys.stderr)
        return 1
    if forgotten is None:
        which = args.url or "the default account (there is none)"
        print(f"qibo-client logout: no saved account for {which}", file=sys.stderr)
        return 1
    print(f"Logged out of {forgotten}: its token is deleted from {accounts_path()}")
    return 0


def accounts_main(args: argparse.Namespace) -> int:
    try:
        described = describe_file()
    except QiboClientError as error:
        print(f"qibo-client accounts: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    listed = described["accounts"]
    if not listed:
        print(
            f"No saved accounts ({described['file']}). Save one with: qibo-client login --url URL"
        )
        return 0
    for account in listed:
        mark = "*" if account["default"] else " "
        print(f"{mark} {account['url']}  saved {account['saved'] or '?'}")
    print(f"(* the default account; file {described['file']})")
    return 0


__all__ = ["accounts_main", "login", "login_main", "logout_main", "read_token"]
