"""The web view as a person uses it: Debian's chromium, driven by Playwright, against real servers.

Playwright only drives the browser found on the machine (``/usr/bin/chromium``, installed by
``.ci/run`` when missing); it never downloads one. Waits are Playwright's own ``expect`` on what
the page shows, never sleeps.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect, sync_playwright
from web_helpers import api_status, submit

from qibo_client.server import LocalCluster

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Headless, and nothing the browser would fetch on its own (updates, sync, safe browsing).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: How long an ``expect`` waits for the page to show something (ms): the job page's first
#: drawing imports qibo in the server (about a second, more on a busy machine).
SHOWN_WITHIN = 30_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="no chromium binary (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and its page; a JavaScript dialog fails the test."""
    context = browser.new_context()
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.set_default_timeout(SHOWN_WITHIN)
    yield opened
    context.close()
    assert dialogs == [], "a page ran a script it was not meant to"


def new_user(cluster: LocalCluster) -> str:
    return cluster.add_user(f"{uuid.uuid4().hex[:10]}@example.org")


def log_in(page: Any, cluster: LocalCluster, token: str) -> None:
    page.goto(f"{cluster.url}/ui/")
    expect(page).to_have_url(f"{cluster.url}/ui/login")
    page.fill("#token", token)
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("My jobs")


@pytest.fixture
def plugin(running: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh user's token, with qibo's backend set to the plugin as that user (numpy after)."""
    import qibo

    monkeypatch.setenv("QIBO_CLIENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "0")
    token = new_user(running)
    qibo.set_backend("qibo-client", url=running.url, token=token)
    try:
        yield token
    finally:
        qibo.set_backend("numpy")


def test_a_job_run_through_the_plugin_appears_and_its_page_shows_the_histogram(
    page: Any, running: LocalCluster, plugin: str
) -> None:
    from qibo import Circuit, gates

    log_in(page, running, plugin)
    expect(page.locator("td.empty")).to_be_visible()
    bell = Circuit(2)
    bell.add(gates.H(0))
    bell.add(gates.CNOT(0, 1))
    bell.add(gates.M(0, 1))
    counts = dict(bell(nshots=100).frequencies())

    page.reload()
    row = page.locator("table.jobs tbody tr[data-pid]")
    expect(row).to_have_count(1)
    expect(row.locator(".status")).to_have_text("success")
    row.locator("a").click()

    bars = page.locator("svg.histogram g.bar")
    expect(bars).to_have_count(len(counts))
    shown = {
        bars.nth(i).get_attribute("data-outcome"): int(bars.nth(i).get_attribute("data-count"))
        for i in range(bars.count())
    }
    assert shown == counts
    expect(page.locator("pre.circuit")).to_contain_text("H")
    expect(page.locator("form[action$='/cancel']")).to_have_count(0)  # finished: nothing to stop


def test_a_queued_job_is_cancelled_then_deleted_from_its_page(
    page: Any, stalled: LocalCluster
) -> None:
    token = new_user(stalled)
    pid = submit(stalled, token, wait=False)
    log_in(page, stalled, token)
    expect(page.locator("body")).to_have_attribute("data-refresh", re.compile(r"\d"))
    page.click(f"tr[data-pid='{pid}'] a")
    expect(page.locator(".facts")).to_contain_text("Queue position")

    page.click("button:has-text('Cancel')")

    expect(page.locator(".facts .status")).to_have_text("error")
    expect(page.locator("pre.stderr")).to_contain_text("cancelled")
    assert api_status(stalled, token, pid) == "error"
    page.click("button:has-text('Delete')")
    expect(page.locator("td.empty")).to_be_visible()
    assert api_status(stalled, token, pid) == 404


def test_the_job_list_refreshes_itself_while_a_job_waits(page: Any, stalled: LocalCluster) -> None:
    token = new_user(stalled)
    pid = submit(stalled, token, wait=False)
    log_in(page, stalled, token)
    expect(page.locator(f"tr[data-pid='{pid}']")).to_be_visible()

    requests.delete(f"{stalled.url}/api/jobs/{pid}/", headers={"x-api-token": token}, timeout=30)

    expect(page.locator("td.empty")).to_be_visible()  # no reload by the test: the page's own


def test_logging_out_ends_the_session(page: Any, stalled: LocalCluster) -> None:
    log_in(page, stalled, new_user(stalled))
    [cookie] = [c for c in page.context.cookies() if c["name"] == "qibo_ui_session"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"

    page.click("button:has-text('Log out')")

    expect(page).to_have_url(f"{stalled.url}/ui/login")
    page.context.add_cookies([cookie])  # the old cookie, put back, opens nothing
    page.goto(f"{stalled.url}/ui/devices")
    expect(page).to_have_url(f"{stalled.url}/ui/login")


def test_a_form_posted_from_another_site_deletes_nothing(page: Any, stalled: LocalCluster) -> None:
    token = new_user(stalled)
    pid = submit(stalled, token, wait=False)
    log_in(page, stalled, token)
    hostile = (
        f"<form id=f method=post action='{stalled.url}/ui/jobs/{pid}/delete'>"
        "<input name=csrf value=guess></form><script>document.getElementById('f').submit()</script>"
    )
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(body=hostile, content_type="text/html"),
    )

    page.goto("http://evil.example/")

    expect(page).to_have_url(re.compile(re.escape(stalled.url)))  # the post left evil.example
    assert api_status(stalled, token, pid) == "queueing"
    page.goto(f"{stalled.url}/ui/")
    expect(page.locator(f"tr[data-pid='{pid}']")).to_be_visible()


def test_a_hostile_register_name_shows_as_text(page: Any, running: LocalCluster) -> None:
    from qibo import Circuit, gates

    hostile = "<script>alert('register')</script><img src=x onerror=alert(1)>"
    circuit = Circuit(1)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, register_name=hostile))
    token = new_user(running)
    pid = submit(running, token, circuit=circuit.raw)
    log_in(page, running, token)

    page.goto(f"{running.url}/ui/jobs/{pid}")

    expect(page.locator("pre.circuit")).to_contain_text(f"register {hostile}: qubits 0")
    assert page.locator("script").count() == 1  # the view's own refresh.js, nothing else
    assert page.locator("img").count() == 0


def test_devices_show_their_limits_queue_and_my_quotas(page: Any, stalled: LocalCluster) -> None:
    token = new_user(stalled)
    log_in(page, stalled, token)
    page.goto(f"{stalled.url}/ui/devices")
    before = int(page.inner_text("tr[data-device=sim] .queued"))
    submit(stalled, token, wait=False)

    page.reload()

    expect(page.locator("tr[data-device=sim] .queued")).to_have_text(str(before + 1))
    expect(page.locator("table.quotas")).to_contain_text("personal")
