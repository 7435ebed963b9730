"""Named crash points for kill tests: ``VIDEO_AGENT_KILL_AT=<name>[:<n>]`` SIGKILLs the process the
n-th time (default: first) the code reaches ``faultpoints.hit("<name>")``.

Off unless the variable is set; reaching a point costs one dictionary look-up. Several points may be
given, separated by commas. Tests use it to prove that every step that writes is safe to repeat
after a kill at that instant.
"""

from __future__ import annotations

import os
import signal
import threading

_counts: dict[str, int] = {}
_lock = threading.Lock()


def _armed() -> dict[str, int]:
    spec = os.environ.get("VIDEO_AGENT_KILL_AT", "")
    armed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, nth = item.partition(":")
        armed[name] = int(nth) if nth.isdigit() and int(nth) > 0 else 1
    return armed


def hit(name: str) -> None:
    """SIGKILL this process here if the environment armed point ``name`` for this visit."""
    if "VIDEO_AGENT_KILL_AT" not in os.environ:
        return
    nth = _armed().get(name)
    if nth is None:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        due = _counts[name] == nth
    if due:
        os.kill(os.getpid(), signal.SIGKILL)
