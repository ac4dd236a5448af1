"""Where settings come from (qibo_client.settings): argument, then sources, then default."""

from __future__ import annotations

import pytest

from qibo_client import settings
from qibo_client.backend import RemoteTIIBackend
from qibo_client.config import TII_URL, ConfigurationError
from qibo_client.qibo_client import Client
from qibo_client.settings import Environment, JobOptions, resolve
from qibo_client.tii import TII


def test_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://env.test/")
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "env-token")
    monkeypatch.setenv("QIBO_CLIENT_TIMEOUT", "7")
    assert resolve("http://arg.test/", "arg-token", 3.0) == settings.Connection(
        "http://arg.test", "arg-token", 3.0
    )
    assert resolve() == settings.Connection("http://env.test", "env-token", 7.0)


def test_the_environment_beats_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "env-token")
    assert resolve(default_url=TII_URL).url == TII_URL
    assert resolve(default_url=TII_URL).timeout == settings.DEFAULT_TIMEOUT
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://env.test")
    assert resolve(default_url=TII_URL).url == "http://env.test"


def test_client_has_no_default_url_but_tii_and_the_backend_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigurationError, match="QIBO_CLIENT_URL"):
        Client(token="t", check_versions=False)
    with pytest.raises(ConfigurationError, match="QIBO_CLIENT_TOKEN"):
        Client("http://x.test", check_versions=False)
    assert TII("t", check_versions=False, journal=False).url == TII_URL
    assert RemoteTIIBackend(token="t").url == TII_URL
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://staging.test/")
    assert TII("t", check_versions=False, journal=False).url == "http://staging.test"
    assert RemoteTIIBackend(token="t").url == "http://staging.test"


def test_a_bad_timeout_in_the_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="QIBO_CLIENT_TIMEOUT"):
        resolve("http://x.test", "t")


def test_a_later_source_slots_in_before_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    class Accounts:
        """What a saved-accounts file will be: tokens tied to their URLs."""

        def __init__(self) -> None:
            self.asked: list[str] = []

        def url(self) -> str | None:
            return "http://saved.test"

        def token_for(self, url: str) -> str | None:
            self.asked.append(url)
            return {"http://saved.test": "saved-token"}.get(url)

        def timeout(self) -> float | None:
            return None

    accounts = Accounts()
    monkeypatch.setattr(settings, "SOURCES", (Environment(), accounts))
    assert resolve(default_url=TII_URL) == settings.Connection("http://saved.test", "saved-token")
    with pytest.raises(ConfigurationError):
        resolve("http://other.test")  # the saved token belongs to another server
    assert accounts.asked == ["http://saved.test", "http://other.test"]
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://env.test")
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "env-token")
    assert resolve() == settings.Connection("http://env.test", "env-token")


def test_the_token_never_shows_in_a_repr() -> None:
    assert "secret" not in repr(resolve("http://x.test", "secret-token"))


def test_job_options_are_one_frozen_value() -> None:
    options = JobOptions(device="hw5", project="lab")
    assert options.with_nshots(10).fields() == {
        "nshots": 10,
        "device": "hw5",
        "project": "lab",
        "verbatim": False,
    }
    assert options.nshots is None
    with pytest.raises(AttributeError):
        options.device = "sim"  # type: ignore[misc]
