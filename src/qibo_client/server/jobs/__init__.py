"""Jobs on the server: the runner, its executors and workers, the engines, the store.

``runner`` (the queue, on the event loop), ``executors`` (where jobs run: processes or Dask),
``worker`` and ``engines`` (one simulation), ``store`` (SQLite, the only durable state),
``templates``/``template_runs`` (circuits kept by the server and run with new parameters).

May import: ``server.circuits``, the server's top modules and :mod:`qibo_client.protocol`. Never
``server.api``: the HTTP face calls the runner, not the other way round.
"""
