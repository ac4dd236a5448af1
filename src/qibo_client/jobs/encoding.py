"""What a job carries for its circuit: a template reference, or the whole circuit.

:class:`JobEncoder` decides whether a circuit goes as a template. On a server that lists the
``templates`` extension (and unless the user switched templates off), a qibo circuit becomes
``{"template": id, "parameters": packed values}``: its structure is exported once per shape
(:class:`~qibo_client.circuits.templates.TemplateCache`) and sent once per connection (``PUT``);
anything else goes whole, in the format the client picks (``Client.encode``), exactly as before.
Against a server that lists no templates (TII's service, the ``tii`` profile) nothing changes.

A template pays only where it is used again: its ``PUT`` is one more request (one more that can
fail) before the job. So a single job goes as a template only when it has parameters (a
variational loop sends its shape again with new angles) or when this client has seen its structure
before; a one-off circuit without parameters (a Bell pair) is one request, the whole circuit, as
before templates.

A batch (:meth:`JobEncoder.batch_fields`) knows more: which structures repeat in it. There a
template pays only for a structure that repeats in the batch or that this client has seen before
(the measurement groups of a variational loop, from its second step on); a structure that comes
once and is new goes whole, parameters or not: 500 distinct random circuits are 500 whole
circuits in one ``POST``, not 500 ``PUT`` requests first.

A server forgets templates: it keeps the ``DEFAULT_TEMPLATES_PER_USER`` most recently used per
user. So one batch never names more distinct templates than that (:attr:`JobEncoder.limit`); the
structures past it go whole. A job naming a template the server no longer has (another process of
the same user made room, or a server restarted without its store) is refused with 409
``unknown_template`` before anything is queued; :meth:`JobEncoder.send` answers that by sending
the structures of that request again and the request once more, so the user never sees it: this
works because the request names no more templates than the server keeps.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from qibo_client.circuits.templates import CACHE_SIZE, Template, TemplateCache
from qibo_client.errors import QiboApiError
from qibo_client.http.api import ServerApi
from qibo_client.protocol import DEFAULT_TEMPLATES_PER_USER, UNKNOWN_TEMPLATE, pack_parameters

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
        #: Most distinct templates one request names: what a server keeps per user.
        self.limit = DEFAULT_TEMPLATES_PER_USER
        self._sent: dict[str, Template] = {}
        #: Ids of structures this client has met (least recently seen first out).
        self._seen: OrderedDict[str, None] = OrderedDict()

    @property
    def active(self) -> bool:
        """Templates are used: switched on, and listed by the server."""
        return self.enabled and bool(self.api.features.templates)

    def template_fields(self, circuit: Any) -> dict[str, Any] | None:
        """``{"template": id, "parameters": packed}`` for a qibo circuit of a single job, or None
        where templates are off, not listed, do not pay, or the circuit cannot be one (then it
        goes whole)."""
        if not self.active:
            return None
        found = self.cache.lookup(circuit)
        if found is None:
            return None
        template, values = found
        seen = self._see(template.template_id)
        if template.template_id not in self._sent:
            if not (template.nparams or seen):
                return None
            self._put(template)
        return {"template": template.template_id, "parameters": pack_parameters(values)}

    def batch_fields(self, circuits: Sequence[Any]) -> list[dict[str, Any] | None]:
        """:meth:`template_fields` for the circuits of one batch (None: that one goes whole, and
        so does an item given as None).

        A structure is a template where it repeats in the batch or was seen before, and for at
        most :attr:`limit` distinct structures; each is sent (``PUT``) before this returns.
        """
        if not self.active:
            return [None] * len(circuits)
        found = [None if circuit is None else self.cache.lookup(circuit) for circuit in circuits]
        repeats = Counter(item[0].template_id for item in found if item is not None)
        named: set[str] = set()
        fields: list[dict[str, Any] | None] = []
        for item in found:
            if item is None:
                fields.append(None)
                continue
            template, values = item
            template_id = template.template_id
            if template_id not in named:
                seen = self._see(template_id)
                if not (seen or repeats[template_id] > 1) or len(named) >= self.limit:
                    fields.append(None)
                    continue
                if template_id not in self._sent:
                    self._put(template)
                named.add(template_id)
            fields.append({"template": template_id, "parameters": pack_parameters(values)})
        return fields

    def _see(self, template_id: str) -> bool:
        """Note that this client met a structure; whether it had met it before."""
        seen = template_id in self._seen or template_id in self._sent
        self._seen[template_id] = None
        self._seen.move_to_end(template_id)
        if len(self._seen) > CACHE_SIZE:
            self._seen.popitem(last=False)
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
