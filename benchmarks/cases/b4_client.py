"""B4's measured process: one large job in a fresh interpreter; prints JSON.

    python b4_client.py plugin|numpy --nqubits 20 --nshots 1000000 [--url URL]

The token comes from ``QIBO_CLIENT_TOKEN``. Peak RSS is ``ru_maxrss`` read twice in this process:
once after everything the job needs is imported and the circuit built (the baseline), once after
the qibo result and its ``frequencies()`` are in hand. In plugin mode it then measures the bytes
of the job object on the wire with a plain ``requests`` GET (requests' default Accept-Encoding,
as our client sends), from a second, identical job.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from typing import Any


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def deep_size(counts: dict[Any, int]) -> int:
    """Bytes of a counts dict as Python holds it: the table, every key, every non-cached int.

    Small ints (-5..256) are shared singletons in CPython, so they cost nothing per entry.
    """
    size = sys.getsizeof(counts)
    for key, value in counts.items():
        size += sys.getsizeof(key)
        if not -5 <= value <= 256:
            size += sys.getsizeof(value)
    return size


def _wire_bytes(url: str, token: str, qasm: str, nshots: int) -> dict[str, Any]:
    import requests

    from qibo_client import Client

    client = Client(url, token)
    job = client.submit(qasm, nshots=nshots, wait=30)
    job.wait()
    response = requests.get(
        f"{url}/api/jobs/{job.pid}/", headers={"x-api-token": token}, stream=True, timeout=120
    )
    raw = response.raw.read(decode_content=False)
    return {
        "job_get_bytes": len(raw),
        "content_encoding": response.headers.get("Content-Encoding", "identity"),
        "content_length": int(response.headers.get("Content-Length", len(raw))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["plugin", "numpy"])
    parser.add_argument("--nqubits", type=int, default=20)
    parser.add_argument("--nshots", type=int, default=1_000_000)
    parser.add_argument("--url", default="")
    args = parser.parse_args()

    import numpy  # noqa: F401
    import qibo
    import requests  # noqa: F401
    from qibo import Circuit, gates

    import qibo_client.backend
    import qibo_client.qibo_client
    import qibo_client.results.outcomes  # noqa: F401

    token = os.environ.get("QIBO_CLIENT_TOKEN", "")
    if args.mode == "plugin":
        qibo.set_backend("qibo-client", url=args.url, token=token)
    else:
        qibo.set_backend("numpy")
    circuit = Circuit(args.nqubits)
    circuit.add(gates.H(q) for q in range(args.nqubits))  # uniform: the most distinct outcomes
    circuit.add(gates.M(*range(args.nqubits)))
    gc.collect()
    baseline = _rss_mb()

    start = time.perf_counter()
    counts = circuit(nshots=args.nshots).frequencies()
    elapsed = time.perf_counter() - start
    peak = _rss_mb()
    assert sum(counts.values()) == args.nshots
    out: dict[str, Any] = {
        "mode": args.mode,
        "seconds_to_result": elapsed,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
        "distinct_outcomes": len(counts),
        "counts_mb": deep_size(counts) / 2**20,
    }
    if args.mode == "plugin":
        out.update(_wire_bytes(args.url, token, circuit.to_qasm(), args.nshots))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
