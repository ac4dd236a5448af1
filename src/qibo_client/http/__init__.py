"""The HTTP layer: one session with the deadline, retries and the drip watchdog, and the API.

``session`` (the requests session), ``deadline`` (one time budget per call), ``watchdog`` (a body
that stops dripping), ``replies`` (a reply read into a typed value or error), ``api`` (one method
per endpoint) and ``compat`` (versions and capabilities of the server).

May import: :mod:`qibo_client.protocol`, :mod:`qibo_client.errors`, :mod:`qibo_client.settings`,
:mod:`qibo_client.versions`, requests and urllib3. Never ``circuits``, ``jobs``, ``results``, the
public faces or the server.
"""
