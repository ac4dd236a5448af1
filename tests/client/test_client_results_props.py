"""Properties of the result conversions, checked on generated data against the obvious loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qibo_client.config import MalformedResponseError
from qibo_client.results.counts import dense_from_frequencies, validate_frequencies


@st.composite
def counts(draw: st.DrawFn) -> dict[str, int]:
    width = draw(st.integers(min_value=1, max_value=12))
    keys = st.text(alphabet="01", min_size=width, max_size=width)
    return draw(st.dictionaries(keys, st.integers(min_value=0, max_value=10**6), max_size=300))


@given(counts())
def test_dense_matches_the_obvious_loop(frequencies: dict[str, int]) -> None:
    width = len(next(iter(frequencies), "0"))
    expected = np.zeros(2**width, dtype=np.int64)
    for bits, count in frequencies.items():
        expected[int(bits, 2)] += count
    dense = dense_from_frequencies(validate_frequencies(frequencies), width)
    assert dense.dtype == np.int64
    assert dense.tolist() == expected.tolist()


@pytest.mark.parametrize(
    "bad",
    [[1, 2], {"0x": 1}, {"é": 1}, {"01": 1, "1": 2}, {"0": -1}, {"0": 1.5}, {"0": True}],
)
def test_validation_rejects_what_is_not_counts(bad: object) -> None:
    with pytest.raises(MalformedResponseError):
        validate_frequencies(bad)
