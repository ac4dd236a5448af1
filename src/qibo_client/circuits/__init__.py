"""How a circuit travels: OpenQASM, qibo's raw program, or a template's parameters.

``export`` (picks the format for a server's features), ``qasm`` (OpenQASM), ``raw`` (the raw
program for what OpenQASM cannot say), ``templates`` (a circuit's structure sent once, then only
its parameters). Deciding per job whether a circuit goes as a template needs the server, so
that decision is :mod:`qibo_client.jobs.encoding`'s.

May import: :mod:`qibo_client.protocol`, :mod:`qibo_client.errors`, :mod:`qibo_client.settings`
and qibo. Never ``http``, ``jobs``, the public faces or the server: a circuit is encoded before
anything is sent.
"""
