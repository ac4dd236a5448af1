"""``qibo-client devices``: what a server offers this user, and how much of it is left.

One row per (project, device) from ``GET /api/projectquotas/`` (qubits, shot limit and default,
status, jobs left) and the user's disk quota from ``GET /api/disk_quota/``. The server and token
come from the settings' order (``--url``/``--token``, then the environment, then the saved
account); ``--token`` goes only to ``--url``, else to the environment's server.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qibo_client.config import TII_URL, TOKEN_ENV, URL_ENV


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=None,
        help=f"the server (default: ${URL_ENV}, else the saved default account, else {TII_URL})",
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"API token for --url (default: ${TOKEN_ENV}, else the saved account's)",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (test servers)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _unlimited(value: Any) -> str:
    return "-" if value is None else str(value)


def rows(quotas: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """The table's rows: one per (project, device), as text."""
    table: list[tuple[str, ...]] = []
    for quota in quotas:
        partition = quota.get("partition") or {}
        table.append(
            (
                str(partition.get("name", "?")),
                str(quota.get("project", "?")),
                _unlimited(partition.get("max_num_qubits")),
                _unlimited(partition.get("max_shots")),
                _unlimited(partition.get("default_shots")),
                str(partition.get("status", "?")),
                _unlimited(quota.get("jobs_left")),
            )
        )
    return table


def main(args: argparse.Namespace) -> int:
    from qibo_client.cli.tables import plain_table
    from qibo_client.errors import QiboClientError
    from qibo_client.qibo_client import Client
    from qibo_client.settings import resolve_url, service_url

    try:
        # A --token given without --url is for the environment's server (else TII's), never for
        # a saved default account it was not given for.
        url = args.url or (service_url(TII_URL) if args.token else resolve_url(default=TII_URL))
        with Client(
            url,
            args.token,
            verify=not args.insecure,
            progress=False,
            check_versions=False,
            journal=False,
        ) as client:
            quotas = client.project_quotas()
            disk = client.disk_quota()
    except QiboClientError as error:
        print(f"qibo-client devices: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"url": client.url, "devices": quotas, "disk": disk}, indent=2))
        return 0
    print(client.url)
    headers = ("device", "project", "qubits", "max shots", "default shots", "status", "jobs left")
    print("\n".join(plain_table(headers, rows(quotas))))
    descriptions = {
        str((q.get("partition") or {}).get("name")): (q.get("partition") or {}).get("description")
        for q in quotas
    }
    for name, description in descriptions.items():
        if description:
            print(f"  {name}: {description}")
    kbs_left, kbs_max = disk.get("kbs_left"), disk.get("kbs_max")
    if isinstance(kbs_left, (int, float)) and isinstance(kbs_max, (int, float)):
        print(f"disk: {kbs_left / 1024:.0f} of {kbs_max / 1024:.0f} MiB left")
    return 0


__all__ = ["add_arguments", "main", "rows"]
