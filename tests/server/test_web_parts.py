"""The web view's parts on their own: the histogram's order and bound, the sessions' bounds, the
circuit drawing's limits, and the numbers shown to people."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from server_helpers import BELL, qasm

from qibo_client.server.ui.drawing import MAX_DRAWN_QUBITS, picture
from qibo_client.server.ui.histogram import MAX_BARS, SORT_ABOVE, histogram
from qibo_client.server.ui.pages import age, duration
from qibo_client.server.ui.sessions import Sessions, same_secret


def test_a_few_outcomes_keep_their_bitstring_order() -> None:
    chart = histogram({"11": 480, "00": 520})

    assert [bar.label for bar in chart.bars] == ["00", "11"]
    assert chart.bars[0].width > chart.bars[1].width
    assert chart.total == 1000


def test_many_outcomes_come_largest_first_and_the_rest_share_one_bar() -> None:
    counts = {f"{i:06b}": i + 1 for i in range(64)}  # 63 is the largest

    chart = histogram(counts)

    assert len(counts) > SORT_ABOVE
    assert len(chart.bars) == MAX_BARS
    assert chart.bars[0].label == f"{63:06b}"
    assert [bar.count for bar in chart.bars[:-1]] == sorted(counts.values(), reverse=True)[:23]
    assert chart.bars[-1].label == f"{64 - (MAX_BARS - 1)} others"
    assert sum(bar.count for bar in chart.bars) == sum(counts.values())


def test_sessions_are_bounded_and_expire() -> None:
    book = Sessions(limit=2)
    first, second, third = (book.open(f"token-{i}") for i in range(3))

    assert book.get(first.sid) is None  # the oldest went first
    assert book.get(third.sid) == third
    book.close(second.sid)
    assert book.get(second.sid) is None
    assert len({first.sid, second.sid, third.sid, first.csrf}) == 4
    expired = Sessions(lifetime=-1)
    assert expired.get(expired.open("t").sid) is None
    assert same_secret("a", "a")
    assert not same_secret(None, "a")


def test_a_circuit_is_drawn_by_qibo_and_a_wide_one_described() -> None:
    drawn = picture(json.dumps(BELL))
    wide = picture(json.dumps(qasm(MAX_DRAWN_QUBITS + 1)))

    assert "H" in drawn
    assert "register m: qubits 0, 1" in drawn
    assert f"{MAX_DRAWN_QUBITS + 1} qubits" in wide
    assert "too large to draw" in wide
    assert picture(json.dumps({"template": "t1", "parameters": [0.1]})).startswith(
        "a run of template t1"
    )


def test_times_read_as_people_say_them() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    assert age((now - timedelta(seconds=42)).isoformat(), now) == "42 s"
    assert age((now - timedelta(minutes=3, seconds=5)).isoformat(), now) == "3 min"
    assert age((now - timedelta(days=2, hours=1)).isoformat(), now) == "2 d"
    assert [duration(s) for s in (None, 0.012, 3.44, 125)] == ["", "12 ms", "3.4 s", "2 min 5 s"]
