"""What comes back: counts and samples read from a result, and the outcomes in qibo's types.

``counts`` (the result archive read safely, the counts and their bounds) and ``outcomes`` (the
qibo result objects a program expects).

May import: :mod:`qibo_client.protocol`, :mod:`qibo_client.errors`, numpy and qibo. Never ``http``
or ``jobs``: a result is read from bytes, wherever they came from.
"""


def __getattr__(name: str) -> object:
    # Until 0.4 this package was one module, today's counts: its names resolve, with a warning.
    from qibo_client import _moved
    from qibo_client.results import counts

    if name.startswith("__") or not hasattr(counts, name):
        raise AttributeError(f"module 'qibo_client.results' has no attribute {name!r}")
    _moved.warn_moved(f"qibo_client.results.{name}", f"qibo_client.results.counts.{name}")
    return getattr(counts, name)
