"""OpenCV's bundled Haar cascades, each lent to one thread at a time.

Thread safety: a ``cv2.CascadeClassifier`` must never be used by two threads at once.
``detectMultiScale`` keeps the scale pyramid of the image it is searching inside the classifier,
so two threads searching images of different sizes with one classifier corrupt each other
(OpenCV's assertion in ``cascadedetect.hpp``, ``vector::_M_range_check``, or a segfault).
``borrowed(file)`` lends an idle classifier from a pool kept per cascade file and takes it back
afterwards; a new one is loaded only when every loaded one is in use. A process therefore loads
as many classifiers as it runs searches at once (not one per call, nor one per short-lived
thread), and the pool's lock is held only to take or return one, never while loading or searching.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2

FRONTAL_FACE = "haarcascade_frontalface_default.xml"
PROFILE_FACE = "haarcascade_profileface.xml"
CONFIRM_FACE = "haarcascade_frontalface_alt2.xml"
"""A second frontal cascade, trained apart, that confirms the first one's faces."""
EYES = "haarcascade_eye.xml"

_LOCK = threading.Lock()
_IDLE: dict[str, list[cv2.CascadeClassifier]] = {}
"""Cascade file -> classifiers no thread is using (guarded by ``_LOCK``)."""


def load(file: str) -> cv2.CascadeClassifier:
    """A new classifier for one of OpenCV's bundled cascade files; raises if it cannot load."""
    path = Path(cv2.data.haarcascades) / file  # type: ignore[attr-defined]
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        raise RuntimeError(f"cascade {path} could not be loaded")
    return classifier


@contextlib.contextmanager
def borrowed(file: str) -> Iterator[cv2.CascadeClassifier]:
    """A classifier for ``file`` that no other thread uses until the block ends."""
    with _LOCK:
        idle = _IDLE.setdefault(file, [])
        classifier = idle.pop() if idle else None
    if classifier is None:
        classifier = load(file)
    try:
        yield classifier
    finally:
        with _LOCK:
            _IDLE[file].append(classifier)
