"""Assessment benchmark: seconds per 6 s 1024x576 clip, against decoding alone, same run.

    .venv/bin/python bench/assess.py [--runs 5]

Prints medians over repeated runs of: decode only (every frame to a numpy array, as a player
would), the gate's analysis decode, the metrics on the decoded frames, the whole
``assess_clip`` of a passing clip, and ``assess_clip`` of a clip that needs a repair; then the
whole-process figure: a separate ``video-agent assess CLIP --image STILL`` per clip (imports
included), and a bare ``python -c "import video_agent.quality"`` for the import share.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
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


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``fn``."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), _cpu()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


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
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}

        def process(*argv: str) -> None:
            subprocess.run([sys.executable, *argv], env=env, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        rows += [
            ("process: video-agent assess --image (passing)", median_time(
                lambda: process("-m", "video_agent", "assess", str(good), "--image", str(still),
                                "--work-dir", str(work / "p")), args.runs)),
            ("process: python -c 'import video_agent.quality'", median_time(
                lambda: process("-c", "import video_agent.quality"), args.runs)),
            ("process: python -c 'pass'", median_time(lambda: process("-c", "pass"), args.runs)),
        ]
        base_wall, base_cpu = rows[0][1]
        print(f"6 s 1024x576 24 fps clip, median of {args.runs} runs "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"{'step':50s} {'wall s':>7s} {'x decode':>9s} {'cpu s':>7s} {'x decode':>9s}")
        for name, (wall, cpu) in rows:
            print(f"{name:50s} {wall:7.3f} {wall / base_wall:9.2f} {cpu:7.3f} "
                  f"{cpu / base_cpu:9.2f}")
        table = dict(rows)
        gate = table["assess_clip, passing clip"]
        whole = table["process: video-agent assess --image (passing)"]
        print(f"in-graph gate / decode only: {gate[0] / base_wall:.2f}x wall, "
              f"{gate[1] / base_cpu:.2f}x CPU (goal <= 3x); whole process per clip: "
              f"{whole[0]:.2f} s wall, {whole[1]:.2f} s CPU (goal <= 1.5 s)")


if __name__ == "__main__":
    main()
