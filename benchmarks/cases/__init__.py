"""One module per benchmark case; each exposes ``CASE``, ``WHAT`` and ``run(ctx) -> CaseResult``."""
