"""``/metrics`` scraped as Prometheus would, parsed with prometheus_client's own parser.

Each test runs its own servers (one registry per app), so the numbers are exact: the jobs these
tests ran, not the session's.
"""

from __future__ import annotations

import uuid

import requests
import web_helpers
from prometheus_client.parser import text_string_to_metric_families

from qibo_client.server import LocalCluster
from qibo_client.server.api.metrics import UNMATCHED

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(cluster: LocalCluster) -> Samples:
    """Every sample of ``/metrics``, by name and labels."""
    answer = requests.get(f"{cluster.url}/metrics", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


def submit(cluster: LocalCluster, wait: bool) -> str:
    """A Bell job of the server's own user, held until it ends when ``wait``."""
    return web_helpers.submit(cluster, cluster.token, wait=wait)


def test_jobs_that_ran_are_counted_timed_and_their_requests_counted_by_route(
    running: LocalCluster,
) -> None:
    pids = [submit(running, wait=True) for _ in range(3)]
    for pid in pids:
        job = requests.get(
            f"{running.url}/api/jobs/{pid}/", headers={"x-api-token": running.token}, timeout=30
        )
        assert job.json()["status"] == "success"
    missing = requests.get(f"{running.url}/nowhere/{uuid.uuid4()}", timeout=30)
    assert missing.status_code == 404

    samples = scrape(running)

    assert total(samples, "qibo_jobs", status="success", device="sim") == 3
    assert total(samples, "qibo_jobs_finished_total", status="success", device="sim") == 3
    assert value(samples, "qibo_job_run_seconds_count", device="sim") == 3
    assert value(samples, "qibo_job_run_seconds_sum", device="sim") > 0
    assert value(samples, "qibo_job_wait_seconds_count", device="sim") == 3
    assert value(samples, "qibo_queue_length", device="sim") == 0
    assert value(samples, "qibo_queue_length", device="hw5") == 0
    job_route = {"method": "GET", "route": "/api/jobs/{pid}/", "status": "200"}
    assert value(samples, "qibo_http_requests_total", **job_route) == 3
    post = {"method": "POST", "route": "/api/jobs/", "status": "200"}
    assert value(samples, "qibo_http_requests_total", **post) == 3
    lost = {"method": "GET", "route": UNMATCHED, "status": "404"}
    assert value(samples, "qibo_http_requests_total", **lost) == 1
    assert value(samples, "qibo_http_request_seconds_count", method="POST", route="/api/jobs/") == 3


def test_no_label_names_a_token_an_email_or_a_job(running: LocalCluster) -> None:
    pid = submit(running, wait=True)
    requests.get(f"{running.url}/api/jobs/{pid}/", headers={"x-api-token": running.token})

    labels = {text for (_, pairs) in scrape(running) for pair in pairs for text in pair}

    assert not [text for text in labels if running.token in text or "@" in text or pid in text]
    assert "/api/jobs/{pid}/" in labels


def test_the_queue_is_counted_per_device_on_each_server_alone(
    stalled: LocalCluster, running: LocalCluster
) -> None:
    first, _second = submit(stalled, wait=False), submit(stalled, wait=False)
    submit(running, wait=True)

    samples = scrape(stalled)
    assert value(samples, "qibo_queue_length", device="sim") == 2
    assert value(samples, "qibo_jobs", status="queueing", device="sim", engine="") == 2
    assert total(samples, "qibo_jobs_finished_total") == 0  # the other server's jobs are not here
    assert total(scrape(running), "qibo_jobs_finished_total") >= 1

    deleted = requests.delete(
        f"{stalled.url}/api/jobs/{first}/", headers={"x-api-token": stalled.token}, timeout=30
    )
    assert deleted.status_code == 200
    assert value(scrape(stalled), "qibo_queue_length", device="sim") == 1
