"""The reference server in a process of its own, for the harness.

    python benchmarks/server.py --workers 2

Started by ``run.py``: it runs ``local_cluster(workers=...)``, writes one line
``bench-server-address: {"url": ..., "token": ...}`` to stdout (a pipe read by the harness,
never a terminal), and serves until its stdin closes. A separate process keeps the server's
event loop from competing with the measured client for one interpreter's GIL, as it never would
in real use.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

#: Starts the address line: other libraries (qibo's logger) may write to stdout too.
MARK = "bench-server-address: "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    from qibo_client.server import local_cluster

    with local_cluster(workers=args.workers) as cluster:
        sys.stdout.write(MARK + json.dumps({"url": cluster.url, "token": cluster.token}) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the harness closes the pipe (or exits)


if __name__ == "__main__":
    main()
