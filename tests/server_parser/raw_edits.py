"""Hostile variants of a raw circuit object, made by changing one field at a time."""

from __future__ import annotations

import copy
from typing import Any


def edited(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` (``queue.1.init_args``) set to ``value``."""
    obj = copy.deepcopy(base)
    *parents, last = path.split(".")
    target: Any = obj
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return obj
