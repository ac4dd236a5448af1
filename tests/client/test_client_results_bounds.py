"""Results are checked against what was asked, and archives are bounded before they are read."""

from __future__ import annotations

import tarfile

import pytest
from faults import archive

from qibo_client.config import MalformedResponseError, UnsafeResultError
from qibo_client.results import counts as results
from qibo_client.results.counts import check_counts, read_archive


def _no_member_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was read before the archive was checked")

    monkeypatch.setattr(tarfile.TarFile, "extractfile", refuse)


def test_too_many_members_are_refused_before_any_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blob = archive({f"m{i}.txt": b"x" for i in range(results.MAX_MEMBERS + 1)})
    _no_member_read(monkeypatch)
    with pytest.raises(UnsafeResultError) as info:
        read_archive(blob)
    assert "members" in str(info.value)


def test_too_much_uncompressed_data_is_refused_before_any_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Smaller limits, same rule: members each under the per-member bound, too much together.
    monkeypatch.setattr(results, "MAX_ARCHIVE_BYTES", 3000)
    monkeypatch.setattr(results, "MAX_MEMBER_BYTES", 2000)
    blob = archive({"a.bin": b"\0" * 1500, "b.bin": b"\0" * 1600})
    _no_member_read(monkeypatch)
    with pytest.raises(UnsafeResultError) as info:
        read_archive(blob)
    assert "uncompressed" in str(info.value)


def test_a_member_shorter_than_its_header_is_malformed() -> None:
    blob = archive({"results.npy": b"abc"}, sizes={"results.npy": 10_000})
    with pytest.raises(MalformedResponseError):
        read_archive(blob)


def test_a_fair_archive_is_read() -> None:
    assert read_archive(archive({"stdout.log": b"hi", "results.npy": b"x"})) == {
        "stdout.log": b"hi",
        "results.npy": b"x",
    }


@pytest.mark.parametrize(
    ("counts", "wrong"),
    [
        ({"00": 450, "11": 450}, "sum to 900"),
        ({"00": 500_000, "11": 500_000}, "sum to 1000000"),
        ({"0": 500, "1": 500}, "1-bit outcomes"),
        ({"000": 500, "111": 500}, "3-bit outcomes"),
        ({"": 1000}, "0-bit outcomes"),
        ({format(i, "011b"): 1 for i in range(1001)}, "1001 distinct outcomes"),
        ({"00": 1001, "11": -1}, "non-negative integer"),
        ({"00": 999.0, "11": 1}, "non-negative integer"),
        ({"00": True, "11": 999}, "non-negative integer"),
        ({"0a": 1000}, "not a bitstring"),
        ({"00": 500, "1": 500}, "different widths"),
    ],
)
def test_counts_that_this_job_cannot_have_produced_are_refused(
    counts: dict[str, int], wrong: str
) -> None:
    with pytest.raises(MalformedResponseError) as info:
        check_counts(counts, pid="job-42", nshots=1000, nbits=2 if "bit" in wrong else None)
    assert "job-42" in str(info.value)
    assert wrong in str(info.value)


def test_fair_counts_pass_and_unknowns_check_what_they_can() -> None:
    assert check_counts({"00": 600, "11": 400}, pid="p", nshots=1000, nbits=2) == {
        "00": 600,
        "11": 400,
    }
    assert check_counts({"01": 3}, pid="p", nshots=None, nbits=None) == {"01": 3}
    with pytest.raises(MalformedResponseError):
        check_counts({"011": 3}, pid="p", nshots=None, nbits=2)
