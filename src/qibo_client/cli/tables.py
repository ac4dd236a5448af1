"""Plain text columns for the command line: readable in 80 columns, piped, and by ``cut``/``awk``.

Rich's tables fold cells to fit the terminal (a 36-character pid broken over two lines cannot be
copied) and draw borders that a pipe then carries; the commands' output is data, so it is plain
columns, two spaces apart, each as wide as its widest cell. ``--json`` is there for programs.
"""

from __future__ import annotations

from collections.abc import Sequence


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a table: a header, then one line per row; the last column is not padded."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [
        max([len(header), *(len(row[index]) for row in cells)])
        for index, header in enumerate(headers)
    ]
    lines = []
    for row in [list(headers), *cells]:
        padded = [value.ljust(width) for value, width in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return lines


__all__ = ["plain_table"]
