"""The web view's forms refuse what a foreign page could make a browser send, and a user sees
only their own jobs. Spoken in plain HTTP, to send what no well-behaved browser would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from test_serve_cli import serve
from web_helpers import api_status, csrf_of, logged_in, submit

from qibo_client.server import LocalCluster, local_cluster
from qibo_client.server.jobs.store import NewJob

ADMIN = "admin@example.org"
ADMIN_TOKEN = "admin-token-" + "a" * 32


@pytest.fixture(scope="module")
def stalled() -> Iterator[LocalCluster]:
    """A server that queues jobs and runs none (a job stays there to be acted on), with an admin."""
    accounts = {"users": [{"email": ADMIN, "token": ADMIN_TOKEN, "admin": True}]}
    with local_cluster(workers=0, accounts=accounts) as cluster:
        yield cluster


@pytest.fixture
def user(stalled: LocalCluster) -> str:
    return stalled.add_user(f"{uuid.uuid4().hex[:10]}@example.org")


def test_a_post_without_the_sessions_csrf_token_or_from_another_site_is_refused(
    stalled: LocalCluster, user: str
) -> None:
    pid = submit(stalled, user, wait=False)
    session, csrf = logged_in(stalled, user)
    delete = f"{stalled.url}/ui/jobs/{pid}/delete"

    refused = [
        session.post(delete, data={}, allow_redirects=False),
        session.post(delete, data={"csrf": "not-" + csrf}, allow_redirects=False),
        session.post(delete, data={"csrf": csrf}, headers={"Origin": "http://evil.example"}),
        session.post(delete, data={"csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"}),
    ]

    assert [answer.status_code for answer in refused] == [403, 403, 403, 403]
    assert "refused" in refused[0].text
    assert api_status(stalled, user, pid) == "queueing"
    own = {"Origin": stalled.url, "Sec-Fetch-Site": "same-origin"}
    accepted = session.post(delete, data={"csrf": csrf}, headers=own, allow_redirects=False)
    assert accepted.status_code == 303
    assert api_status(stalled, user, pid) == 404


def test_the_login_form_needs_its_own_cookie_and_a_valid_token(
    stalled: LocalCluster, user: str
) -> None:
    stranger = requests.post(
        f"{stalled.url}/ui/login", data={"csrf": "x", "token": user}, allow_redirects=False
    )
    assert stranger.status_code == 403
    assert "qibo_ui_session" not in stranger.cookies

    session = requests.Session()
    form = session.get(f"{stalled.url}/ui/login")
    wrong = session.post(
        f"{stalled.url}/ui/login", data={"csrf": csrf_of(form.text), "token": "wrong" * 8}
    )
    assert wrong.status_code == 401
    assert "not valid" in wrong.text


def test_the_session_cookie_is_http_only_and_strict_and_pages_forbid_framing(
    stalled: LocalCluster, user: str
) -> None:
    session = requests.Session()
    form = session.get(f"{stalled.url}/ui/login")
    answer = session.post(
        f"{stalled.url}/ui/login",
        data={"csrf": csrf_of(form.text), "token": user},
        allow_redirects=False,
    )
    cookie = answer.headers["set-cookie"]
    assert "qibo_ui_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; HTTPS adds it
    assert user not in cookie
    page = session.get(f"{stalled.url}/ui/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_another_users_job_does_not_exist_in_the_view(stalled: LocalCluster, user: str) -> None:
    theirs = submit(stalled, stalled.add_user(f"{uuid.uuid4().hex[:10]}@example.org"), wait=False)
    session, csrf = logged_in(stalled, user)

    assert session.get(f"{stalled.url}/ui/jobs/{theirs}").status_code == 404
    cancel = session.post(f"{stalled.url}/ui/jobs/{theirs}/cancel", data={"csrf": csrf})
    assert cancel.status_code == 404
    assert theirs not in session.get(f"{stalled.url}/ui/").text


def test_a_token_revoked_while_signed_in_ends_the_session(stalled: LocalCluster) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    token = stalled.add_user(email)
    session, _ = logged_in(stalled, token)
    admin, csrf = logged_in(stalled, ADMIN_TOKEN)

    revoke = f"{stalled.url}/ui/admin/users/revoke"
    revoked = admin.post(revoke, data={"csrf": csrf, "email": email})

    assert revoked.status_code == 200
    assert session.get(f"{stalled.url}/ui/").url == f"{stalled.url}/ui/login"
    api = requests.get(f"{stalled.url}/api/jobs/", headers={"x-api-token": token})
    assert api.status_code == 401


def test_an_admin_adds_a_user_whose_token_works_and_sets_a_quota(stalled: LocalCluster) -> None:
    admin, csrf = logged_in(stalled, ADMIN_TOKEN)
    email = f"{uuid.uuid4().hex[:10]}@example.org"

    added = admin.post(
        f"{stalled.url}/ui/admin/users", data={"csrf": csrf, "email": email, "projects": "qml"}
    )
    assert added.status_code == 200
    token = added.text.split('class="new-token">')[1].split("<")[0]
    me = requests.get(f"{stalled.url}/api/accounts/me/", headers={"x-api-token": token})
    assert me.json() == {"email": email}

    quota = {"csrf": csrf, "email": email, "project": "qml", "shots": "5000", "jobs": "3"}
    page = admin.post(f"{stalled.url}/ui/admin/quota", data=quota)
    assert page.status_code == 200
    assert f'data-email="{email}" data-project="qml"' in page.text
    assert "0 of 5,000" in page.text
    bad = admin.post(f"{stalled.url}/ui/admin/quota", data={**quota, "shots": "many"})
    assert bad.status_code == 400
    assert "shots must be a number" in bad.text


def test_the_admin_page_does_not_exist_for_a_user(stalled: LocalCluster, user: str) -> None:
    session, csrf = logged_in(stalled, user)

    assert session.get(f"{stalled.url}/ui/admin").status_code == 404
    add = session.post(f"{stalled.url}/ui/admin/users", data={"csrf": csrf, "email": "x@y.z"})
    assert add.status_code == 404
    assert "Admin" not in session.get(f"{stalled.url}/ui/").text


def test_qibo_client_serve_has_the_view_and_the_metrics(tmp_path: Path) -> None:
    token = "serve-token-0123456789abcdef"
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"users": [{"email": "ada@example.org", "token": token}]}))
    env = {"QIBO_SERVER_ACCOUNTS": str(accounts)}
    with serve(tmp_path / "serve.sqlite3", env=env) as (url, _log, _process):
        session = requests.Session()
        form = session.get(f"{url}/ui/login")
        page = session.post(f"{url}/ui/login", data={"csrf": csrf_of(form.text), "token": token})
        metrics = requests.get(f"{url}/metrics")
    assert page.url == f"{url}/ui/"
    assert "ada@example.org" in page.text
    assert 'qibo_queue_length{device="sim"} 0.0' in metrics.text


def test_jobs_are_found_by_tag_and_a_hostile_name_or_tag_is_text(stalled: LocalCluster) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    token = stalled.add_user(email)
    user_id = stalled._call(lambda: stalled.state.store.account(email).id)
    hostile = "<script>alert(1)</script>"
    # Stored as the API stores a tagged job (the submission's tags reach the store as these).
    job = NewJob(
        user_id, "sim", "personal", '"x"', 10, 1, False, name=hostile, tags=("vqe", hostile)
    )
    [pid] = stalled._call(stalled.state.store.insert_jobs, [job])
    session, _ = logged_in(stalled, token)

    tagged = session.get(f"{stalled.url}/ui/", params={"tag": "vqe"}).text
    other = session.get(f"{stalled.url}/ui/", params={"tag": "qaoa"}).text

    assert f'data-pid="{pid}"' in tagged
    assert f'data-pid="{pid}"' not in other
    assert hostile not in tagged
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tagged
