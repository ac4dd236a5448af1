"""Benchmarks side by side: our client and plugin, the local numpy backend, the official client.

    python benchmarks/run.py            # full run (builds the official client's venv once)
    python benchmarks/run.py --quick    # smoke run: small sizes, official client only if built
    python benchmarks/run.py --only B1,B5

Starts the reference server itself (``local_cluster(workers=2)``, in a process of its own: see
server.py), runs the cases in this process (B4's client and B5's imports in fresh ones),
prints a table and writes ``benchmarks/out/results-<UTC date-time>.json``. See README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import CaseResult, Context, serving  # noqa: E402

ORDER = ["B5", "B6", "B1", "B2", "B3", "B9", "B4", "B7", "B8", "B10", "B11"]
MODULES = {
    "B1": "cases.b1_latency",
    "B2": "cases.b2_throughput",
    "B3": "cases.b3_variational",
    "B4": "cases.b4_large_result",
    "B5": "cases.b5_import",
    "B6": "cases.b6_parsing",
    "B7": "cases.b7_engine",
    "B8": "cases.b8_dask",
    "B9": "cases.b9_templates",
    "B10": "cases.b10_faults",
    "B11": "cases.b11_2026",
}
WORKERS = 2

logger = logging.getLogger("benchmarks")


def machine() -> dict[str, Any]:
    """What the figures depend on: cores, CPU, Python, library versions, the code's commit."""
    import qibo

    import qibo_client

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    commit = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "qibo": qibo.__version__,
        "qibo_client": qibo_client.__version__,
        "commit": commit,
    }


def print_table(results: list[CaseResult], meta: dict[str, Any]) -> None:
    """The table on stdout, with rich (already a dependency of the client)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"qibo-client benchmarks ({meta['mode']}, {meta['date']})", show_lines=True)
    for column in ("case", "figure", "target", "met"):
        table.add_column(column, overflow="fold")
    for result in results:
        met = {True: "[green]met[/]", False: "[red]missed[/]", None: "n/a"}[result.met]
        figure = result.figure + "".join(f"\n[dim]{note}[/]" for note in result.notes)
        table.add_row(f"{result.case} {result.what}", figure, result.target, met)
    Console(width=160).print(table)


def markdown(results: list[CaseResult], meta: dict[str, Any]) -> str:
    """The same table in Markdown, with the machine and the command, ready for RESULTS.md."""
    m = meta["machine"]
    official = meta["official"]
    lines = [
        f"- date: {meta['date']}; mode: {meta['mode']}; command: `{meta['command']}`",
        f"- machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}; {m['platform']}",
        f"- qibo {m['qibo']}, qibo-client {m['qibo_client']} (commit {m['commit']}); server "
        f"workers: {meta['workers']}; official client {official['version']} with qibo "
        f"{official['qibo'] or '-'}{'' if official['available'] else ': ' + official['reason']}",
        "",
        "| case | figure (medians and ratios) | target | met |",
        "|---|---|---|---|",
    ]
    for r in results:
        met = {True: "met", False: "**missed**", None: "n/a"}[r.met]
        figure = r.figure + "".join(f" ({note})" for note in r.notes)
        lines.append(f"| {r.case} {r.what} | {figure} | {r.target} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a 1-2 minute smoke run")
    parser.add_argument("--only", default="", help="comma-separated cases, e.g. B1,B5")
    parser.add_argument("--no-official", action="store_true", help="skip the official client")
    parser.add_argument("--rebuild-official", action="store_true", help="rebuild its venv")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if a target is missed (for CI gating)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where the JSON goes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    selected = [c.strip().upper() for c in args.only.split(",") if c.strip()] or ORDER
    unknown = sorted(set(selected) - set(ORDER))
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(ORDER)}")
    selected = [case for case in ORDER if case in selected]

    # No progress bars in the table's way, and no entries in the user's own job journal.
    scratch = tempfile.TemporaryDirectory(prefix="qibo-bench-")
    os.environ["QIBO_CLIENT_PROGRESS"] = "0"
    os.environ["QIBO_CLIENT_CACHE_DIR"] = scratch.name

    from official import env as official_env

    needs_official = {"B1", "B2", "B11"} & set(selected)
    if args.no_official or not needs_official:
        official = official_env.Official(None, official_env.SKIPPED)
    else:
        official = official_env.prepare(build=not args.quick, rebuild=args.rebuild_official)

    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    meta: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if args.quick else "full",
        "command": " ".join(["python benchmarks/run.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "workers": WORKERS,
        "official": {
            "available": official.available,
            "reason": official.reason,
            "qibo": official.qibo_version,
            "version": official_env.VERSION,
        },
    }
    results: list[CaseResult] = []
    pids: list[int] = []
    with serving(WORKERS, pids=pids) as (url, token):
        ctx = Context(args.quick, url, token, WORKERS, official, server_pid=pids[0])
        for case in selected:
            module = importlib.import_module(MODULES[case])
            logger.warning("running %s %s ...", case, module.WHAT)
            case_start = time.perf_counter()
            try:
                result: CaseResult = module.run(ctx)
            except Exception as error:  # noqa: BLE001 - a broken case is reported, the others still run
                logger.error("%s failed:\n%s", case, traceback.format_exc())
                result = CaseResult(case, module.WHAT, f"FAILED: {error!r}"[:300], "", None)
            result.data["case_seconds"] = time.perf_counter() - case_start
            results.append(result)
    meta["total_seconds"] = time.perf_counter() - started

    print_table(results, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"results-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({**meta, "results": [r.as_dict() for r in results]}, indent=2))
    path.with_suffix(".md").write_text(markdown(results, meta))
    print(f"JSON: {path} (and .md)  ({meta['total_seconds']:.0f} s)")
    scratch.cleanup()
    if any(r.figure.startswith("FAILED") for r in results):
        return 2
    return 1 if args.strict and any(r.met is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
