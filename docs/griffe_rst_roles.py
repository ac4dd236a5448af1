"""Docs build only: Sphinx roles in docstrings (``:class:`Job```) shown as code, not as raw text.

The package's docstrings are written for reading in the source and in ``help()``, where a role is
plain text; mkdocstrings renders Markdown, which has no roles. This griffe extension rewrites
``:class:`~qibo_client.jobs.job.Job``` as ```Job``` (the same text a reader sees in Sphinx) while
the API reference is generated; the source is not touched.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")


def _code(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class RstRoles(Extension):
    """Rewrite roles in every docstring griffe loads."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_code, obj.docstring.value)
