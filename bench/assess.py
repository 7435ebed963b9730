"""Assessment benchmark: seconds per 6 s 1024x576 clip, against decoding alone, same run.

    .venv/bin/python bench/assess.py [--runs 5]

Two passing clips: a pan over a made texture, and the embedded renderer's pan over the example
portrait (a face, so the composition check matches five frames on the still). Prints medians
over rounds (each round times every step once, so a slower moment of the machine weighs on the
baseline as on the rest) of, for each: decode only (every frame to a numpy array, as a player
would) and the whole ``assess_clip`` cold (nothing known of its still: the faces are searched)
and as in the graph (the still read and its faces found while the provider made the clip,
``prepare_still``, untimed); then the texture pan's analysis decode and metrics,
``assess_clip`` of a clip that needs a repair, a separate ``video-agent assess CLIP --image
STILL`` process (imports included) and a bare ``python -c "import video_agent.quality"`` for
the import share. The gate's ratios to decoding are the medians of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from defect_clips import _image, pan_frames, source_image, write_clip  # noqa: E402

from video_agent.adapters.render import render_clip  # noqa: E402
from video_agent.models import MotionSpec, SceneSpec, VideoParams  # noqa: E402
from video_agent.quality import QualitySettings, assess_clip, forget, prepare_still  # noqa: E402
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


@dataclass
class Step:
    """A timed call, after an untimed one (what the graph did before the gate)."""

    run: Callable[[], object]
    before: Callable[[], object]


def timed(fn: Callable[[], object] | Step) -> tuple[float, float]:
    """Wall and CPU seconds of one call of ``fn`` (of a step's ``run``, after its ``before``)."""
    if isinstance(fn, Step):
        fn.before()
        fn = fn.run
    start, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - start, _cpu() - cpu


def rounds(steps: list[tuple[str, Callable[[], object] | Step]], runs: int
           ) -> dict[str, list[tuple[float, float]]]:
    """Every step timed once per round, ``runs`` rounds: each round's steps see the same
    machine, so a ratio to the baseline is taken within a round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in steps}
    for _name, fn in steps:  # one warm-up call each (imports, first-use caches)
        timed(fn)
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
        portrait = ROOT / "examples" / "stories" / "images" / "portrait.jpg"
        face_motion = MotionSpec(type="pan", duration=6.0, focus_points=["face"])
        face = render_clip(portrait, work / "face.mp4", face_motion).path
        cases = {  # name: clip, its still, its plan
            "texture pan": (good, still, MotionSpec(type="pan", duration=6.0)),
            "portrait pan (a face)": (face, portrait, face_motion),
        }
        settings = QualitySettings()
        gray_still = read_gray(still)
        frames = decode_for_analysis(good)

        def gate(name: str, cold: bool) -> Step:
            clip, image, motion = cases[name]
            params = VideoParams(scene=SceneSpec(content="bench", number=1,
                                                 image_url=str(image)), motion=motion)

            def before() -> None:
                if cold:
                    forget()
                else:  # as the graph does while the provider makes the clip
                    prepare_still(image, motion.focus_points)

            return Step(lambda: assess_clip(clip, image, params, work_dir=work / "w"), before)

        rows: list[tuple[str, Callable[[], object] | Step]] = []
        for name, (clip, _, _) in cases.items():
            rows += [(f"{name}: decode only (baseline)", functools.partial(decode_only, clip)),
                     (f"{name}: assess_clip, cold", gate(name, cold=True)),
                     (f"{name}: assess_clip, still prepared", gate(name, cold=False))]
        rows += [
            ("texture pan: analysis decode", lambda: decode_for_analysis(good)),
            ("texture pan: metrics on decoded frames",
             lambda: measure(frames, gray_still, settings)),
            ("1280x720 30 fps -> repaired: assess_clip, cold", gate_off(off, still, work)),
        ]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}

        def process(*argv: str) -> None:
            subprocess.run([sys.executable, *argv], env=env, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        rows += [
            ("process: video-agent assess --image (texture pan)", (
                lambda: process("-m", "video_agent", "assess", str(good), "--image", str(still),
                                "--work-dir", str(work / "p")))),
            ("process: python -c 'import video_agent.quality'", (
                lambda: process("-c", "import video_agent.quality"))),
            ("process: python -c 'pass'", (lambda: process("-c", "pass"))),
        ]
        times = rounds(rows, args.runs)
        medians = {name: (statistics.median(w for w, _ in runs),
                          statistics.median(c for _, c in runs)) for name, runs in times.items()}
        print(f"6 s 1024x576 24 fps clips, median of {args.runs} rounds "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"{'step':58s} {'wall s':>7s} {'cpu s':>7s}")
        for name, (wall, cpu) in medians.items():
            print(f"{name:58s} {wall:7.3f} {cpu:7.3f}")
        for name in cases:
            base = times[f"{name}: decode only (baseline)"]
            for how in ("cold", "still prepared"):
                judged = times[f"{name}: assess_clip, {how}"]
                wall = statistics.median(g[0] / b[0] for g, b in zip(judged, base, strict=True))
                cpu = statistics.median(g[1] / b[1] for g, b in zip(judged, base, strict=True))
                print(f"{name}, gate {how} / decode only (median of the rounds' own ratios): "
                      f"{wall:.2f}x wall, {cpu:.2f}x CPU (goal <= 3x)")
        whole = medians["process: video-agent assess --image (texture pan)"]
        print(f"whole process per clip: {whole[0]:.2f} s wall, {whole[1]:.2f} s CPU "
              "(goal <= 1.5 s)")


def gate_off(clip: Path, still: Path, work: Path) -> Step:
    """A cold gate of the 1280x720 30 fps clip, repaired to the spec."""
    params = VideoParams(scene=SceneSpec(content="bench", number=1, image_url=str(still)),
                         motion=MotionSpec(type="pan", duration=6.0))
    return Step(lambda: assess_clip(clip, still, params, work_dir=work / "w"),
                forget)


if __name__ == "__main__":
    main()
