"""Circuits on the server: the OpenQASM and raw readers, the program they build, its gates.

``qasm_parser``/``qasm_expr`` and ``raw_circuit`` read a submission into a ``program.Program``;
``channels`` and ``matrices`` check the noise and the matrices it carries.

May import: :mod:`qibo_client.protocol`, numpy and qibo. Never ``server.api`` or ``server.jobs``.
"""
