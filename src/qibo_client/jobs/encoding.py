"""What a job carries for its circuit: a template reference, or the whole circuit.

:class:`JobEncoder` decides whether a circuit goes as a template. On a server that lists the
``templates`` extension (and unless the user switched templates off), a qibo circuit becomes
``{"template": id, "parameters": packed values}``: its structure is exported once per shape
(:class:`~qibo_client.circuits.templates.TemplateCache`) and sent once per connection (``PUT``);
anything else goes whole, in the format the client picks (``Client.encode``), exactly as before.
Against a server that lists no templates (TII's service, the ``tii`` profile) nothing changes.

A template pays only where it is used again: its ``PUT`` is one more request (one more that can
fail) before the job. So a circuit goes as a template only when it has parameters (a variational
loop sends its shape again with new angles) or when this client has seen its structure before; a
one-off circuit without parameters (a Bell pair) is one request, the whole circuit, as before
templates.

A server forgets templates (it keeps a bounded number per user). A job naming one it no longer has
is refused with 409 ``unknown_template`` before anything is queued; :meth:`JobEncoder.send`
answers that by sending the structures of that request again and the request once more, so the
user never sees it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from qibo_client.circuits.templates import CACHE_SIZE, Template, TemplateCache
from qibo_client.errors import QiboApiError
from qibo_client.http.api import ServerApi
from qibo_client.protocol import UNKNOWN_TEMPLATE, pack_parameters

logger = logging.getLogger("qibo_client.circuits.templates")

T = TypeVar("T")


def is_unknown_template(error: QiboApiError) -> bool:
    """Whether the server refused a job because it does not have (any more) its template."""
    return error.status == 409 and f"{UNKNOWN_TEMPLATE}:" in (error.detail or "")


class JobEncoder:
    """Circuits -> job fields for one connection; remembers which templates the server has."""

    def __init__(self, api: ServerApi, *, enabled: bool = True) -> None:
        self.api = api
        #: False: never use templates, whatever the server lists (the switch for comparisons).
        self.enabled = enabled
        self.cache = TemplateCache()
        self._sent: dict[str, Template] = {}
        #: Ids of parameterless structures sent whole once (least recently seen first out).
        self._once: OrderedDict[str, None] = OrderedDict()

    @property
    def active(self) -> bool:
        """Templates are used: switched on, and listed by the server."""
        return self.enabled and bool(self.api.features.templates)

    def template_fields(self, circuit: Any) -> dict[str, Any] | None:
        """``{"template": id, "parameters": packed}`` for a qibo circuit, or None where templates
        are off, not listed, or the circuit cannot be one (then it goes whole)."""
        if not self.active:
            return None
        found = self.cache.lookup(circuit)
        if found is None:
            return None
        template, values = found
        if template.template_id not in self._sent:
            if not self._pays(template):
                return None
            self._put(template)
        return {"template": template.template_id, "parameters": pack_parameters(values)}

    def _pays(self, template: Template) -> bool:
        """Whether a template not yet sent pays: parameters, or a structure seen before."""
        if template.nparams:
            return True
        seen = template.template_id in self._once
        self._once[template.template_id] = None
        self._once.move_to_end(template.template_id)
        if len(self._once) > CACHE_SIZE:
            self._once.popitem(last=False)
        return seen

    def _put(self, template: Template) -> None:
        self.api.put_template(template.template_id, template.structure)
        self._sent[template.template_id] = template
        logger.debug("Sent template %s (%d parameters)", template.template_id, template.nparams)

    def send(self, request: Callable[[], T], bodies: Iterable[dict[str, Any]]) -> T:
        """``request()``; if the server forgot a template of ``bodies``, send it, retry once.

        The refusal comes before anything is queued, so the retry queues each job once.
        """
        try:
            return request()
        except QiboApiError as error:
            if not is_unknown_template(error):
                raise
            ids = {body["template"] for body in bodies if "template" in body}
            logger.debug("Server forgot template(s) %s; sending again", sorted(ids))
            for template_id in sorted(ids):
                self._put(self._sent[template_id])
            return request()


__all__ = ["JobEncoder", "is_unknown_template"]
