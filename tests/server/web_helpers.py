"""What the web view's tests share: a browser's login done with ``requests``, and a job to look at.

The browser tests (test_web_view.py) drive Debian's chromium through Playwright; the tests of the
forms' protections (test_web_forms.py) speak HTTP directly, so they can send what no browser
would (a foreign ``Origin``, a wrong CSRF token).
"""

from __future__ import annotations

import re
from typing import Any

import requests
from server_helpers import BELL

from qibo_client.server import LocalCluster

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def logged_in(cluster: LocalCluster, token: str) -> tuple[requests.Session, str]:
    """A cookie session signed in to the view with ``token``, and its CSRF token."""
    session = requests.Session()
    form = session.get(f"{cluster.url}/ui/login", timeout=30)
    answer = session.post(
        f"{cluster.url}/ui/login",
        data={"csrf": csrf_of(form.text), "token": token},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.url == f"{cluster.url}/ui/"
    return session, csrf_of(answer.text)


def submit(cluster: LocalCluster, token: str, circuit: Any = BELL, wait: bool = True) -> str:
    """A Bell pair (or ``circuit``) through the API; held until it ends when ``wait``."""
    headers = {"x-api-token": token, **({"Prefer": "wait=30"} if wait else {})}
    answer = requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": circuit, "nshots": 100, "device": "sim", "project": "personal"},
        headers=headers,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["pid"])


def api_status(cluster: LocalCluster, token: str, pid: str) -> int | str:
    """The job's status through the API, or the HTTP status when it has none (404: gone)."""
    answer = requests.get(f"{cluster.url}/api/jobs/{pid}/", headers={"x-api-token": token})
    return str(answer.json()["status"]) if answer.status_code == 200 else answer.status_code
