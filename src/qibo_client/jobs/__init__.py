"""A job's life on the client: submit, wait, follow, remember.

``encoding`` (how this server gets this circuit: whole, or as a template it was sent once),
``job`` (one job, rebuilt from its pid alone), ``batch`` (many jobs as one), ``waiting`` (the poll
loop and its back-off), ``progress`` (what the user sees meanwhile), ``journal`` (the jobs this
machine submitted), ``legacy`` (the first release's functions).

May import: ``http``, ``circuits``, ``results`` and the facts at the top (protocol, errors,
settings). Never the public faces (``qibo_client.qibo_client``, ``backend``) or the server.
"""
