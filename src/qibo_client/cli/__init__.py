"""The ``qibo-client`` command: a thin dispatcher over the modules that do the work.

Each subcommand lives in its own module, which exposes ``add_arguments(parser)`` and
``main(args) -> int``. Those modules import their heavy dependencies inside ``main``, so
``qibo-client --help`` stays fast and works without the server extra.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from qibo_client.versions import __version__

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "qibo_client.server.cli",
        "run the reference cluster server (needs the [server] extra)",
    ),
    "demo": ("qibo_client.cli.demo", "run the demo end to end against an embedded server"),
    "devices": ("qibo_client.cli.devices", "the devices of a server, with your quotas on them"),
    "jobs": ("qibo_client.cli.jobs", "list the jobs this machine submitted, with their status"),
    "result": ("qibo_client.cli.jobs", "print the result of one job, by pid"),
    "login": ("qibo_client.cli.accounts", "save a token for a server (asked without echo)"),
    "logout": ("qibo_client.cli.accounts", "delete the saved token of a server"),
    "accounts": ("qibo_client.cli.accounts", "list the saved accounts (never their tokens)"),
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default in ``--help``, except empty ones (None, False) that say nothing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qibo-client",
        description="Run Qibo circuits on a remote quantum cluster.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qibo-client {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=HelpFormatter
        )
        adder = getattr(module, f"add_{name}_arguments", None) or module.add_arguments
        adder(command)
        command.set_defaults(_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(args._module)
    # Our own logger only: qibo logs through its own handler, and a root handler would repeat it.
    # A command may ask for more by default (the server logs one line per request at INFO).
    default_level = getattr(module, "LOG_LEVEL", logging.WARNING)
    level = max(logging.DEBUG, default_level - 10 * args.verbose)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("qibo_client", *getattr(module, "EXTRA_LOGGERS", ())):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
    runner = getattr(module, f"{args.command}_main", None) or module.main
    return int(runner(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
