"""Build (once) and drive the official clients' virtual environments.

The official ``qibo-client`` 0.2.4 imports as ``qibo_client``, like ours, and pins ``qibo==0.3.2``,
so it cannot share this interpreter. It gets a venv under ``benchmarks/.venv-official/<version>``
(gitignored), built on first use and reused while its ``ready.json`` stamp names the same version.
The cases run ``driver.py`` there in a subprocess, against the same server, and read its JSON.

TII's current client ``tii-quantum`` (:data:`TII_QUANTUM_VERSION`, the 2026 generation of the
protocol) gets a venv of its own the same way, beside it (``tii-quantum-<version>``), from
:func:`prepare_tii_quantum`; give its :class:`Official` the driver that speaks its API
(``Official.run`` runs :attr:`Official.driver`).

If a venv cannot be built (no package registry, say), that column is reported as unavailable with
the reason; the harness does not fail.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("benchmarks.official")

VERSION = "0.2.4"
#: TII's own client, from the package index; it reads the 2026 protocol.
TII_QUANTUM_VERSION = "0.1.2"
#: Why there is no official client when the run was told to leave them out.
SKIPPED = "skipped (--no-official or not needed)"
HERE = Path(__file__).resolve().parent
VENV_ROOT = HERE.parent / ".venv-official"
DRIVER = HERE / "driver.py"
#: Printed by each venv's interpreter once built: its qibo's version (the stamp keeps it).
_PROBE = "import qibo, {module}; print(qibo.__version__)"


@dataclass
class Official:
    """An official client's interpreter, or ``reason`` why there is none."""

    python: Path | None
    reason: str = ""
    qibo_version: str = ""
    #: The script :meth:`run` runs there (the 0.2.4 driver unless told otherwise).
    driver: Path = DRIVER

    @property
    def available(self) -> bool:
        return self.python is not None

    def run(self, case: str, url: str, token: str, **options: Any) -> dict[str, Any]:
        """Run one case of the driver; the token travels in the environment, never in argv."""
        assert self.python is not None
        args = [str(self.python), str(self.driver), case, "--url", url]
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        with tempfile.TemporaryDirectory(prefix="qibo-official-") as scratch:
            env = _clean_env()
            env["BENCH_TOKEN"] = token
            env["RESULTS_BASE_FOLDER"] = scratch  # where the official client unpacks downloads
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"the official driver failed ({done.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _clean_env() -> dict[str, str]:
    """This environment minus what would let the venv see our packages or our settings."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QIBO_BACKEND", "QIBO_PLATFORM"):
        env.pop(name, None)
    return env


def _venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def prepare(*, build: bool = True, rebuild: bool = False) -> Official:
    """The official client 0.2.4's ready venv; build it if ``build`` (else say it is not built)."""
    return _prepare("qibo-client", VERSION, "qibo_client", VENV_ROOT / VERSION, build, rebuild)


def prepare_tii_quantum(*, build: bool = True, rebuild: bool = False) -> Official:
    """``tii-quantum`` :data:`TII_QUANTUM_VERSION`'s ready venv, built as :func:`prepare`'s."""
    root = VENV_ROOT / f"tii-quantum-{TII_QUANTUM_VERSION}"
    return _prepare("tii-quantum", TII_QUANTUM_VERSION, "tii_quantum", root, build, rebuild)


def _prepare(
    package: str, version: str, module: str, root: Path, build: bool, rebuild: bool
) -> Official:
    """``package==version`` in a venv at ``root``, built once; ``module`` proves it imports."""
    stamp = root / "ready.json"
    python = _venv_python(root)
    if rebuild and root.exists():
        import shutil

        shutil.rmtree(root)
    if stamp.exists() and python.exists():
        info = json.loads(stamp.read_text())
        if info.get(package) == version:
            return Official(python, qibo_version=str(info.get("qibo", "")))
    if not build:
        return Official(None, f"its venv is not built yet (quick mode does not build it): {root}")
    logger.warning("Building the %s %s venv at %s (once)...", package, version, root)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run(
            [*pip, f"{package}=={version}"],
            env=_clean_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        probe = subprocess.run(
            [str(python), "-c", _PROBE.format(module=module)],
            env=_clean_env(),
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        reason = f"could not build its venv: {detail.strip().splitlines()[-1] if detail else error}"
        logger.warning("%s unavailable: %s", package, reason)
        return Official(None, reason)
    qibo_version = probe.stdout.strip()
    stamp.write_text(json.dumps({package: version, "qibo": qibo_version}))
    return Official(python, qibo_version=qibo_version)
