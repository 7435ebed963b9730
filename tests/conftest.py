"""Shared fixtures: the example story, small stills, and the CLI as a user runs it."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_STORY = ROOT / "examples" / "stories" / "morning_cafe.json"
EXAMPLE_IMAGES = ROOT / "examples" / "stories" / "images"


def interruptible() -> None:
    """``preexec_fn`` for a child that a test Ctrl-Cs: a shell starts background jobs (CI run
    with ``&`` or ``nohup``) with SIGINT ignored, and a child inherits that, so it would never
    see the test's SIGINT. The child gets the default action back, as a terminal's Ctrl-C finds
    it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``video-agent ARGS`` in a child process, exactly as a user runs it."""
    return subprocess.run([sys.executable, "-m", "video_agent", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {}), "COLUMNS": "200"})


def drain_cpu_pools(timeout: float = 120) -> None:
    """Return once every job queued in the CPU pools before the call has ended. A scene prepares
    its still in the CPU pool without awaiting it, so such a job of an earlier test may still be
    running when a test that counts searches or loads starts. Every worker of a pool is made to
    wait at one barrier: when all have reached it, none is running an earlier job. The main pool
    goes first, as its jobs wait on the helpers' jobs."""
    import threading

    from video_agent import cpu_pool

    for executor in (cpu_pool.pool(), cpu_pool.helpers()):
        workers = executor._max_workers
        together = threading.Barrier(workers + 1, timeout=timeout)
        waits = [executor.submit(together.wait) for _ in range(workers)]
        together.wait()
        for done in waits:
            done.result(timeout=timeout)


def write_story(path: Path, story_id: str, scenes: list[dict], **extra: object) -> Path:
    path.write_text(json.dumps({"story_id": story_id, "scenes": scenes, **extra}))
    return path


def still(path: Path, size: tuple[int, int] = (1280, 720), seed: int = 0) -> Path:
    """A detailed synthetic still (gradients and shapes), so motion and bitrate are realistic."""
    import numpy as np

    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h)], -1)
    for _ in range(40):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(10, 90)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.integers(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    buffer = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype("uint8")).save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def example_story() -> Path:
    return EXAMPLE_STORY
