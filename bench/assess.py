"""Assessment benchmark: seconds per 6 s 1024x576 clip, against decoding alone, same run.

    .venv/bin/python bench/assess.py [--runs 5]

Prints medians over repeated runs of: decode only (every frame to a numpy array, as a player
would), the gate's analysis decode, the metrics on the decoded frames, the whole
``assess_clip`` of a passing clip, and ``assess_clip`` of a clip that needs a repair.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from defect_clips import _image, pan_frames, source_image, write_clip  # noqa: E402

from video_agent.models import MotionSpec, SceneSpec, VideoParams  # noqa: E402
from video_agent.quality import QualitySettings, assess_clip  # noqa: E402
from video_agent.quality.assess import measure, read_gray  # noqa: E402
from video_agent.quality.frames import decode_for_analysis  # noqa: E402


def decode_only(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for frame in container.decode(stream) if frame.to_ndarray() is not None)


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        still = source_image(work)
        good = write_clip(work / "good.mp4", pan_frames(_image(), 144))
        off = write_clip(work / "off.mp4", pan_frames(_image(), 180, size=(1280, 720)), fps=30)
        params = VideoParams(scene=SceneSpec(content="bench", number=1, image_url=str(still)),
                             motion=MotionSpec(type="pan", duration=6.0))
        settings = QualitySettings()
        gray_still = read_gray(still)
        frames = decode_for_analysis(good)

        rows = [
            ("decode only (baseline)", median_time(lambda: decode_only(good), args.runs)),
            ("analysis decode", median_time(lambda: decode_for_analysis(good), args.runs)),
            ("metrics on decoded frames",
             median_time(lambda: measure(frames, gray_still, settings), args.runs)),
            ("assess_clip, passing clip", median_time(
                lambda: assess_clip(good, still, params, work_dir=work / "w"), args.runs)),
            ("assess_clip, 1280x720 30 fps -> repaired", median_time(
                lambda: assess_clip(off, still, params, work_dir=work / "w"), args.runs)),
        ]
        base = rows[0][1]
        print(f"6 s 1024x576 24 fps clip, median of {args.runs} runs")
        print(f"{'step':44s} {'seconds':>8s} {'x decode':>9s}")
        for name, seconds in rows:
            print(f"{name:44s} {seconds:8.3f} {seconds / base:9.2f}")


if __name__ == "__main__":
    main()
