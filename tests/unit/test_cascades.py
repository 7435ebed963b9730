"""The classifier pool: one thread per classifier at a time, loaded once and reused."""

from __future__ import annotations

import threading

import cv2
import pytest

from video_agent import cascades
from video_agent.cascades import borrowed

# Cascades the product never borrows: a search an earlier test left running in a worker thread
# (a cancelled ``asyncio.to_thread``, or a still prepared while a provider worked, runs to its
# end) borrows and loads the product's cascades, and must not land in what these tests count.
SPARE = "haarcascade_frontalface_alt.xml"
OTHER_SPARE = "haarcascade_smile.xml"  # the gate borrows the eye cascade
MISSING = "no_such_cascade.xml"
COUNTED = {SPARE, OTHER_SPARE, MISSING}


@pytest.fixture()
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """An empty pool whose loads are recorded (the real classifiers are still loaded)."""
    made: list[str] = []
    real = cascades.load

    def counted(file: str) -> cv2.CascadeClassifier:
        if file in COUNTED:
            made.append(file)
        return real(file)

    monkeypatch.setattr(cascades, "_IDLE", {})
    monkeypatch.setattr(cascades, "load", counted)
    return made


def test_sequential_calls_from_short_lived_threads_reuse_one_classifier(loads: list[str]) -> None:
    seen: list[int] = []

    def use() -> None:
        with borrowed(SPARE) as classifier:
            seen.append(id(classifier))

    for _ in range(6):  # a render's focus search runs in a thread of its own
        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
    assert loads == [SPARE]
    assert len(set(seen)) == 1


def test_concurrent_borrowers_never_share_and_the_pool_stops_growing(loads: list[str]) -> None:
    holders = 4
    together = threading.Barrier(holders)
    seen: list[list[int]] = [[], []]

    def hold(round_: int) -> None:
        with borrowed(SPARE) as classifier:
            seen[round_].append(id(classifier))
            together.wait(timeout=30)  # every borrower holds its classifier at this point

    for round_ in (0, 1):
        threads = [threading.Thread(target=hold, args=(round_,)) for _ in range(holders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(set(seen[0])) == holders, "classifiers in use at once are all distinct"
    assert set(seen[1]) == set(seen[0]), "the second round reuses the first round's classifiers"
    assert loads == [SPARE] * holders


def test_pools_are_kept_per_cascade_file(loads: list[str]) -> None:
    with borrowed(SPARE) as frontal, borrowed(OTHER_SPARE) as profile:
        assert frontal is not profile
    assert sorted(loads) == sorted([SPARE, OTHER_SPARE])


def test_a_missing_cascade_file_is_an_error_naming_it(loads: list[str]) -> None:
    with pytest.raises(RuntimeError, match=r"no_such_cascade\.xml"), borrowed(MISSING):
        pass
    assert loads == [MISSING]
    assert cascades._IDLE[MISSING] == [], "nothing unusable joins the pool"
