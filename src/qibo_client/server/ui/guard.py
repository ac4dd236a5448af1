"""What keeps another site out of the web view: cookies, form checks and page headers.

A browser sends the session cookie with any request to this server, even one a page on another
site makes it send (a hidden form). So every POST of the view passes :func:`read_form`:

1. **Same origin**: an ``Origin`` header, when the browser sends one (every current browser does
   on a POST), must be this server's own; a ``Sec-Fetch-Site`` other than ``same-origin`` or
   ``none`` is refused too.
2. **The CSRF token**: the form must carry the session's token (:mod:`.sessions`), which a page
   on another site cannot read. The login form, before any session exists, carries the value of
   a short-lived cookie of its own instead (the double-submit pattern): a foreign page can make a
   browser post a token of the attacker's, but cannot know that cookie.

The cookies are ``HttpOnly`` (no script reads them), ``SameSite=Strict`` (not sent at all on a
request another site starts) and ``Secure`` when the request came over HTTPS (behind a proxy,
uvicorn takes the scheme from ``X-Forwarded-Proto`` of the addresses in ``FORWARDED_ALLOW_IPS``,
loopback by default). Every page also forbids
framing, inline scripts and foreign resources through :data:`PAGE_HEADERS`.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from qibo_client.server.ui.sessions import same_secret

#: The session cookie (a random id) and the login form's own cookie.
SESSION_COOKIE = "qibo_ui_session"
LOGIN_COOKIE = "qibo_ui_login"
#: The cookies' path: only the web view receives them, never the API.
COOKIE_PATH = "/ui"
#: The largest form body read (the longest form is a token and a few fields).
MAX_FORM_BYTES = 16 * 1024
#: Fields read from a form at most.
MAX_FORM_FIELDS = 20
#: The form field that carries the CSRF token.
CSRF_FIELD = "csrf"

#: Headers of every page: no framing, no inline script, nothing from elsewhere, no caching.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    """A request the view will not serve: its status and the sentence shown on the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set one of the view's cookies, with every protection it can have."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def _fields(request: Request) -> dict[str, str]:
    """An urlencoded body's fields (the first value of each); anything else has none."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        return {}  # not one of the view's forms: it fails the CSRF check
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Refused(413, "this form is larger than any of the view's forms")
    try:
        parsed = parse_qs(body.decode(), max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as err:
        raise Refused(400, "this form cannot be read") from err
    return {key: values[0] for key, values in parsed.items()}


def check_origin(request: Request) -> None:
    """Refuse (403) a request that says it comes from another site."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        raise Refused(403, "refused: this form was sent from another site")
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, "refused: this form was sent from another site")


async def read_form(request: Request, expected_csrf: str) -> dict[str, str]:
    """The posted form's fields, once the request passed both checks; else 403 (or 400/413)."""
    check_origin(request)
    form = await _fields(request)
    if not same_secret(form.get(CSRF_FIELD), expected_csrf):
        raise Refused(403, "refused: the form's CSRF token is missing or wrong; reload the page")
    return form


__all__ = [
    "COOKIE_PATH",
    "CSRF_FIELD",
    "LOGIN_COOKIE",
    "PAGE_HEADERS",
    "SESSION_COOKIE",
    "Refused",
    "check_origin",
    "clear_cookie",
    "read_form",
    "set_cookie",
]
