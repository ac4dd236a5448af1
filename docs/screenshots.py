"""Take the screenshots of docs/web.md: a local cluster, a few jobs, Debian's chromium.

    PYTHONPATH=src python docs/screenshots.py [OUT_DIR]   # default: docs/img

Needs the server and test extras (``pip install -e ".[test]"``) and ``/usr/bin/chromium``; the
browser is never downloaded. The jobs are seeded, so the histograms are the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from qibo_client.server import local_cluster

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN = {"email": "ada@example.org", "token": "docs-admin-token-" + "x" * 24, "admin": True}
VIEWPORT = {"width": 1200, "height": 760}


def qasm(nqubits: int, body: str) -> str:
    head = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{nqubits}];\ncreg m[{nqubits}];\n'
    measure = "".join(f"measure q[{i}] -> m[{i}];\n" for i in range(nqubits))
    return head + body + measure


BELL = qasm(2, "h q[0];\ncx q[0],q[1];\n")
GHZ = qasm(4, "h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\ncx q[2],q[3];\nrx(0.4) q[3];\n")
WIDE = qasm(7, "".join(f"h q[{i}];\nry({0.3 * i}) q[{i}];\n" for i in range(7)))


def submit(url: str, circuit: str, shots: int, device: str = "sim", wait: bool = True) -> str:
    headers = {"x-api-token": ADMIN["token"], **({"Prefer": "wait=60"} if wait else {})}
    body = {"circuit": circuit, "nshots": shots, "device": device, "project": "personal", "seed": 7}
    answer = requests.post(f"{url}/api/jobs/", json=body, headers=headers, timeout=120)
    answer.raise_for_status()
    return str(answer.json()["pid"])


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with local_cluster(workers=1, accounts={"users": [ADMIN]}) as cluster:
        cluster.add_user("grace@example.org", projects=["qml"])
        submit(cluster.url, BELL, 1000, device="hw5")
        ghz = submit(cluster.url, GHZ, 2000)
        wide = submit(cluster.url, WIDE, 5000)
        submit(cluster.url, BELL, 1000)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{cluster.url}/ui/")
            page.screenshot(path=out / "web-login.png")
            page.fill("#token", ADMIN["token"])
            page.click("button:has-text('Log in')")
            page.wait_for_selector("table.jobs")
            page.screenshot(path=out / "web-jobs.png", full_page=True)
            for pid, name in ((ghz, "web-job.png"), (wide, "web-job-many.png")):
                page.goto(f"{cluster.url}/ui/jobs/{pid}")
                page.wait_for_selector("svg.histogram")
                page.screenshot(path=out / name, full_page=True)
            page.goto(f"{cluster.url}/ui/devices")
            page.screenshot(path=out / "web-devices.png", full_page=True)
            page.goto(f"{cluster.url}/ui/admin")
            page.screenshot(path=out / "web-admin.png", full_page=True)
            browser.close()
    for shot in sorted(out.glob("web-*.png")):
        print(shot)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "img")
