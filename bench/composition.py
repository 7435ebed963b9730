"""Composition benchmark: CPU cost of the gate's face search and of the whole-move check.

    .venv/bin/python bench/composition.py [--runs 5]

Prints medians (CPU seconds of the process, steadier than wall time on a shared machine) of:
the single-cascade face search the gate ran before (``focus.detect_faces`` on a 640 px copy,
the baseline), the confirmed search (``composition.find_faces``) as a ratio to it, and the
content metrics of a 4 s pan over a face still (``measure_checks``, five frames placed on the
still) against decoding the clip for analysis, all in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from defect_clips import pan_frames, write_clip  # noqa: E402
from face_stills import FACE_STILLS  # noqa: E402

from video_agent.adapters.render.focus import detect_faces  # noqa: E402
from video_agent.quality import QualitySettings  # noqa: E402
from video_agent.quality.checks import measure_checks  # noqa: E402
from video_agent.quality.composition import find_faces  # noqa: E402
from video_agent.quality.frames import decode_for_analysis  # noqa: E402


def cpu(fn: Callable[[], object], runs: int) -> float:
    """Median CPU seconds of ``runs`` calls."""
    used = []
    for _ in range(runs):
        began = time.process_time()
        fn()
        used.append(time.process_time() - began)
    return statistics.median(used)


def old_search(gray: np.ndarray) -> object:
    k = min(1.0, 640 / max(gray.shape))
    small = gray if k >= 1 else cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    return detect_faces(small, profiles=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = QualitySettings()
    print(f"{'still':16} {'old search':>10} {'new search':>10} {'ratio':>6} "
          f"{'decode':>7} {'metrics':>8} {'ratio':>6}")
    for name, make in FACE_STILLS.items():
        image = make()
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        old = cpu(lambda g=gray: old_search(g), args.runs)
        new = cpu(lambda g=gray: find_faces(g), args.runs)
        with tempfile.TemporaryDirectory() as tmp:
            clip = write_clip(Path(tmp) / "c.mp4", pan_frames(image, 96, height=0.4))
            decode = cpu(lambda c=clip: decode_for_analysis(c), args.runs)
            frames = decode_for_analysis(clip)
            metrics = cpu(lambda f=frames, g=gray, i=image: measure_checks(
                f, g, settings, source_rgb=i), args.runs)
        print(f"{name:16} {old:9.3f}s {new:9.3f}s {new / old:5.2f}x "
              f"{decode:6.3f}s {metrics:7.3f}s {metrics / decode:5.2f}x")


if __name__ == "__main__":
    main()
