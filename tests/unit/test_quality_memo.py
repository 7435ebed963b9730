"""The memo of still searches: one search per still, shared by threads, bounded, never stale."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from video_agent.quality.memo import Memo, Waiting, digest


def test_a_known_key_is_not_searched_again() -> None:
    memo: Memo[int] = Memo()
    calls = []
    for _ in range(3):
        assert memo.get("a", lambda: calls.append(1) or 7) == 7
    assert len(calls) == 1


def test_threads_asking_at_once_share_one_search() -> None:
    memo: Memo[str] = Memo()
    calls = []
    started = threading.Event()

    def search() -> str:
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.2)
        return "faces"

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(memo.get, "still", search)
        started.wait(5)
        others = [pool.submit(memo.get, "still", search) for _ in range(3)]
        assert [f.result() for f in [first, *others]] == ["faces"] * 4
    assert len(calls) == 1


def test_a_failed_search_is_raised_to_every_waiter_and_not_kept() -> None:
    memo: Memo[int] = Memo()
    release = threading.Event()

    def broken() -> int:
        release.wait(5)
        raise ValueError("unreadable")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(memo.get, "k", broken)
        time.sleep(0.05)
        second = pool.submit(memo.get, "k", broken)
        time.sleep(0.05)
        release.set()
        for future in (first, second):
            with pytest.raises(ValueError, match="unreadable"):
                future.result()
    assert len(memo) == 0
    assert memo.get("k", lambda: 3) == 3


def test_only_the_newest_results_are_kept() -> None:
    memo: Memo[int] = Memo(size=2)
    for key in "abc":
        memo.get(key, lambda: 1)
    assert len(memo) == 2
    calls = []
    memo.get("a", lambda: calls.append(1) or 1)  # evicted: searched again
    memo.get("c", lambda: calls.append(1) or 1)  # kept
    assert len(calls) == 1


def test_clear_forgets_everything() -> None:
    memo: Memo[int] = Memo()
    memo.get("a", lambda: 1)
    memo.clear()
    assert memo.get("a", lambda: 2) == 2


def test_a_search_running_across_clear_is_not_kept() -> None:
    memo: Memo[int] = Memo()
    inside, release = threading.Event(), threading.Event()

    def slow() -> int:
        inside.set()
        release.wait(10)
        return 1

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(memo.get, "a", slow)
        assert inside.wait(10)
        memo.clear()
        fresh = memo.get("a", lambda: 2)  # searched again, not waiting for the forgotten one
        release.set()
        assert running.result(10) == 1  # its caller still gets its result
    assert fresh == 2 and memo.get("a", lambda: 3) == 2  # the fresh result is the one kept


def test_cleared_waiting_hands_nothing_over() -> None:
    waiting: Waiting[str] = Waiting(100)
    waiting.put("a", "still", 10)
    waiting.clear()
    assert len(waiting) == 0 and waiting.take("a") is None


def test_a_value_made_across_clear_is_not_kept() -> None:
    waiting: Waiting[str] = Waiting(100)
    ticket = waiting.ticket()
    waiting.clear()
    waiting.put("a", "read before the clear", 10, ticket)
    assert waiting.take("a") is None
    waiting.put("a", "read after it", 10, waiting.ticket())
    assert waiting.take("a") == "read after it"


def test_the_digest_tells_apart_one_pixel_and_one_shape() -> None:
    image = np.zeros((40, 60), np.uint8)
    assert digest(image) == digest(image.copy())
    touched = image.copy()
    touched[39, 59] = 1
    assert digest(touched) != digest(image)
    assert digest(image.reshape(60, 40)) != digest(image)
    assert digest(image.astype(np.uint16)) != digest(image)
    assert digest(np.zeros((40, 60, 3), np.uint8)[:, :, 0]) == digest(image)  # a view: pixels


def test_a_waiting_value_is_handed_over_once() -> None:
    waiting: Waiting[str] = Waiting(limit=100)
    waiting.put("still", "read", 10)
    assert waiting.take("still") == "read"
    assert waiting.take("still") is None
    assert waiting.take("other") is None


def test_waiting_values_stay_within_their_bytes_the_oldest_dropped() -> None:
    waiting: Waiting[int] = Waiting(limit=100)
    for key in range(4):
        waiting.put(key, key, 40)
    assert len(waiting) == 2
    assert waiting.take(0) is None and waiting.take(1) is None
    assert waiting.take(3) == 3
    waiting.put("huge", 1, 101)  # larger than the limit: never kept
    assert waiting.take("huge") is None
    waiting.put("a", 1, 10)
    waiting.put("a", 2, 10)  # the newer replaces the older
    assert waiting.take("a") == 2 and len(waiting) == 1
