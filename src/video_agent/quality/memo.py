"""What is found on a still, kept by the still's pixels for whoever looks at it next.

A scene's still is searched for faces by the renderer, by the gate of every clip made of it
(primary, fallback, a re-judged repair) and ahead of time while a provider works on the clip
(``prepare_still``). The searches are pure functions of the pixels, so each is done once per
process and the result is looked up by a digest of the image. Only the small results are
kept (boxes, never images), the newest ``MEMO_SIZE`` of each kind.

Thread safety: one lock per memo; a search already running in another thread is waited for,
not repeated.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

MEMO_SIZE = 64
"""Results kept per kind of search (a story's stills, several times over)."""


def digest(image: np.ndarray) -> bytes:
    """A digest of an image's pixels and shape: equal digests, equal images."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((image.shape, image.dtype.str)).encode())
    h.update(np.ascontiguousarray(image).data)
    return h.digest()


class Memo(Generic[T]):
    """Results of one pure search, by key: the newest ``size`` kept, one search per key at a
    time (a second caller waits for the first's result)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, T] = OrderedDict()
        self._running: dict[Hashable, Future[T]] = {}

    def get(self, key: Hashable, search: Callable[[], T]) -> T:
        """The result for ``key``, searched with ``search`` unless known or being searched."""
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
            if running is None:
                mine: Future[T] = Future()
                self._running[key] = mine
        if running is not None:
            return running.result()
        try:
            result = search()
        except BaseException as exc:
            with self._lock:
                if self._running.get(key) is mine:
                    del self._running[key]
            mine.set_exception(exc)
            raise
        with self._lock:
            if self._running.get(key) is mine:  # else forgotten (``clear``) while it ran
                del self._running[key]
                self._done[key] = result
                while len(self._done) > self._size:
                    self._done.popitem(last=False)
        mine.set_result(result)
        return result

    def clear(self) -> None:
        """Forget every result, and every search still running (its callers get its result,
        the memo does not keep it): a benchmark's cold start."""
        with self._lock:
            self._done.clear()
            self._running.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._done)


class Waiting(Generic[T]):
    """Things made ahead for one later taker, by key: the newest first, at most ``limit``
    bytes of them (the oldest are dropped, as a taker that never comes would leave them)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._cleared = 0

    def ticket(self) -> int:
        """Taken before making a value: a ``put`` with it after a ``clear`` keeps nothing."""
        with self._lock:
            return self._cleared

    def put(self, key: Hashable, value: T, size: int, ticket: int | None = None) -> None:
        """Keep ``value`` (``size`` bytes) for the next ``take`` of ``key``, unless everything
        was cleared since ``ticket`` was taken."""
        if size > self._limit:
            return
        with self._lock:
            if ticket is not None and ticket != self._cleared:
                return
            self._items.pop(key, None)
            self._items[key] = (value, size)
            while sum(s for _, s in self._items.values()) > self._limit:
                self._items.popitem(last=False)

    def take(self, key: Hashable) -> T | None:
        """The value kept for ``key``, handed over once (None when there is none)."""
        with self._lock:
            item = self._items.pop(key, None)
        return None if item is None else item[0]

    def clear(self) -> None:
        """Drop everything waiting, and what is being made for it (see ``ticket``)."""
        with self._lock:
            self._items.clear()
            self._cleared += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
