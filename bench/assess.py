"""Assessment benchmark: seconds per 6 s 1024x576 clip, against decoding alone, same run.

    .venv/bin/python bench/assess.py [--runs 5]

Prints medians over rounds (each round times every step once, so a slower moment of the
machine weighs on the baseline as on the rest) of: decode only (every frame to a numpy
array, as a player would), the gate's analysis decode, the metrics on the decoded frames, the
whole ``assess_clip`` of a passing clip cold (nothing known of its still: the faces are
searched) and as in the graph (the still's faces found while the provider made the clip,
``prepare_still``), and ``assess_clip`` of a clip that needs a repair; then the whole-process
figure: a separate ``video-agent assess CLIP --image STILL`` per clip (imports included), and a
bare ``python -c "import video_agent.quality"`` for the import share. The gate's ratios to
decoding are the medians of the rounds' own ratios.
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
from video_agent.quality import QualitySettings, assess_clip, composition, prepare_still  # noqa: E402
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


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call of ``fn``."""
    start, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - start, _cpu() - cpu


def rounds(steps: list[tuple[str, Callable[[], object]]], runs: int
           ) -> dict[str, list[tuple[float, float]]]:
    """Every step timed once per round, ``runs`` rounds: each round's steps see the same
    machine, so a ratio to the baseline is taken within a round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in steps}
    for _name, fn in steps:  # one warm-up call each (imports, first-use caches)
        fn()
    for _ in range(runs):
        for name, fn in steps:
            times[name].append(timed(fn))
    return times


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

        def cold(clip: Path) -> None:
            composition.forget()
            assess_clip(clip, still, params, work_dir=work / "w")

        prepare_still(still)
        rows = [
            ("decode only (baseline)", (lambda: decode_only(good))),
            ("analysis decode", (lambda: decode_for_analysis(good))),
            ("metrics on decoded frames",
             (lambda: measure(frames, gray_still, settings))),
            ("assess_clip, passing clip, cold", lambda: cold(good)),
            ("assess_clip, passing clip, still prepared", (
                lambda: assess_clip(good, still, params, work_dir=work / "w"))),
            ("assess_clip, 1280x720 30 fps -> repaired, cold", lambda: cold(off)),
        ]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}

        def process(*argv: str) -> None:
            subprocess.run([sys.executable, *argv], env=env, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        rows += [
            ("process: video-agent assess --image (passing)", (
                lambda: process("-m", "video_agent", "assess", str(good), "--image", str(still),
                                "--work-dir", str(work / "p")))),
            ("process: python -c 'import video_agent.quality'", (
                lambda: process("-c", "import video_agent.quality"))),
            ("process: python -c 'pass'", (lambda: process("-c", "pass"))),
        ]
        times = rounds(rows, args.runs)
        medians = {name: (statistics.median(w for w, _ in runs),
                          statistics.median(c for _, c in runs)) for name, runs in times.items()}
        base_wall, base_cpu = medians["decode only (baseline)"]
        print(f"6 s 1024x576 24 fps clip, median of {args.runs} runs "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"{'step':50s} {'wall s':>7s} {'x decode':>9s} {'cpu s':>7s} {'x decode':>9s}")
        for name, (wall, cpu) in medians.items():
            print(f"{name:50s} {wall:7.3f} {wall / base_wall:9.2f} {cpu:7.3f} "
                  f"{cpu / base_cpu:9.2f}")
        base = times["decode only (baseline)"]
        whole = medians["process: video-agent assess --image (passing)"]
        for name in ("cold", "still prepared"):
            gate = times[f"assess_clip, passing clip, {name}"]
            wall = statistics.median(g[0] / b[0] for g, b in zip(gate, base, strict=True))
            cpu = statistics.median(g[1] / b[1] for g, b in zip(gate, base, strict=True))
            print(f"gate ({name}) / decode only, median of the {args.runs} rounds' own "
                  f"ratios: {wall:.2f}x wall, {cpu:.2f}x CPU (goal <= 3x)")
        print(f"whole process per clip: {whole[0]:.2f} s wall, {whole[1]:.2f} s CPU "
              "(goal <= 1.5 s)")

if __name__ == "__main__":
    main()
