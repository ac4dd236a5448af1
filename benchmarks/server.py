"""The reference server in a process of its own, for the harness.

    python benchmarks/server.py --workers 2
    python benchmarks/server.py --workers 1 --threads 2      # one job at a time, on both cores
    python benchmarks/server.py --dask-local 2                # jobs on a Dask LocalCluster
    python benchmarks/server.py --profile tii-2026 --stage-seconds 0.05 --access-log PATH

Started by ``run.py``: it runs ``local_cluster(workers=...)``, writes one line
``bench-server-address: {"url": ..., "token": ...}`` to stdout (a pipe read by the harness,
never a terminal), and serves until its stdin closes. A separate process keeps the server's
event loop from competing with the measured client for one interpreter's GIL, as it never would
in real use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys

#: Starts the address line: other libraries (qibo's logger) may write to stdout too.
MARK = "bench-server-address: "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="numba threads per job")
    parser.add_argument("--engine", default=None, help="engine of the simulators (numpy, ...)")
    parser.add_argument(
        "--no-fast-lane",
        action="store_true",
        help="every job through the pool (or Dask), as before issue 21; the lane is on by default, "
        "as in qibo-client serve",
    )
    parser.add_argument(
        "--dask-local",
        type=int,
        default=0,
        metavar="N",
        help="run jobs on a Dask LocalCluster of N one-thread worker processes (not --workers)",
    )
    parser.add_argument("--profile", default="default", help="default, tii or tii-2026")
    parser.add_argument(
        "--stage-seconds",
        type=float,
        default=0.0,
        help="least seconds a job shows each of its 4 stages (a job that lives as on TII's)",
    )
    parser.add_argument(
        "--access-log", default=None, help="append one line per request to this file (counts)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    if args.access_log:
        _log_requests(args.access_log)
    from qibo_client.server import local_cluster

    with contextlib.ExitStack() as stack:
        dask = None
        if args.dask_local:
            from distributed import LocalCluster

            dask = stack.enter_context(
                LocalCluster(
                    n_workers=args.dask_local,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
        cluster = stack.enter_context(
            local_cluster(
                workers=args.workers,
                threads=args.threads,
                engine=args.engine,
                dask=dask,
                profile=args.profile,
                stage_seconds=args.stage_seconds,
                fast_lane=not args.no_fast_lane,
            )
        )
        sys.stdout.write(MARK + json.dumps({"url": cluster.url, "token": cluster.token}) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the harness closes the pipe (or exits)


def _log_requests(path: str) -> None:
    """The server's access log (method, path, status, ms, job; never a header) into ``path``:
    the harness counts the requests of clients it cannot hook, such as the official ones."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("qibo_client.server.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


if __name__ == "__main__":
    main()
