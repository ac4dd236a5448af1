"""The server's HTTP face: the FastAPI app, its routes, the request models and the answers.

``app`` (the FastAPI app), ``routes`` (one router per resource), ``deps`` (the injected user and
state), ``schemas``/``checks`` (what a request may hold), ``answers`` (the job objects sent back),
``archive`` (a finished job's download), ``access_log``.

May import: ``server.circuits``, ``server.jobs`` and the server's top modules (state, accounts,
profiles, devices), plus :mod:`qibo_client.protocol`. Nothing below imports it.
"""
