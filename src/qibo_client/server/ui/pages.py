"""Rendering the view's pages: one Jinja2 environment, its filters, and the page headers.

**Everything is escaped**: the environment has ``autoescape=True`` for every template, so a job's
register named ``<script>`` or a hostile tag is shown as text, never read as markup; no template
marks anything ``|safe``. Templates and the stylesheet are package data (inside the wheel), and
no page loads anything from elsewhere: the view works on a machine with no network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from qibo_client.server.ui.guard import CSRF_FIELD, PAGE_HEADERS

HERE = Path(__file__).parent
#: Seconds between two refreshes of a page that shows a job still queued or running.
REFRESH_SECONDS = 2


def age(iso: str | None, now: datetime | None = None) -> str:
    """How long ago an ISO 8601 time was, in the largest unit that fits (``3 min``)."""
    if not iso:
        return ""
    now = now or datetime.now(UTC)
    seconds = max(0.0, (now - datetime.fromisoformat(iso)).total_seconds())
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def duration(seconds: float | None) -> str:
    """A run or wait time for people: ``12 ms``, ``3.4 s``, ``2 min 5 s``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def number(value: float) -> str:
    """A count with thousands separated (``1,000,000``), so a quota reads at a glance."""
    return f"{value:,.0f}"


def stamp(iso: str | None) -> str:
    """An ISO time to the second, as ``2026-12-06 20:31:05 UTC``."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(age=age, duration=duration, number=number, stamp=stamp)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: ``template`` with ``context``, the root path and the CSRF field's name added."""
    context.setdefault("viewer", None)
    context.setdefault("csrf", "")
    context.setdefault("refresh", None)
    html = environment.get_template(template).render(
        root=request.scope.get("root_path", ""), csrf_field=CSRF_FIELD, **context
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


__all__ = ["REFRESH_SECONDS", "age", "duration", "environment", "number", "render", "stamp"]
