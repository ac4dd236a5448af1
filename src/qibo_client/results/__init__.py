"""What comes back: counts and samples read from a result, and the outcomes in qibo's types.

``counts`` (the result archive read safely, the counts and their bounds) and ``outcomes`` (the
qibo result objects a program expects).

May import: :mod:`qibo_client.protocol`, :mod:`qibo_client.errors`, numpy and qibo. Never ``http``
or ``jobs``: a result is read from bytes, wherever they came from.
"""
