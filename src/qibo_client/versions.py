"""qibo-client's version, and version helpers shared by the client and the server (stdlib only).

Both sides need "which qibo is installed here" without importing qibo (over a second) and "compare
two version strings" without ``packaging``; writing them twice let them drift.
"""

from __future__ import annotations

import re

#: qibo-client's own version (hatch reads it here; the package and the User-Agent re-export it).
__version__ = "0.3.0"


def qibo_version() -> str:
    """qibo's version from its metadata: importing qibo costs over a second."""
    # imported here: 30 ms that ``import qibo_client`` (which reads __version__) must not pay
    from importlib import metadata

    try:
        return metadata.version("qibo")
    except metadata.PackageNotFoundError:  # pragma: no cover - qibo is a dependency
        return "unknown"


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.3.6"`` -> ``(0, 3, 6)``; trailing zeros, pre-release and local tags are ignored.

    Raises ValueError for a string with no leading number.
    """
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(version))
    if match is None:
        raise ValueError(f"unreadable version: {version!r}")
    parts = [int(part) for part in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


__all__ = ["__version__", "qibo_version", "version_tuple"]
