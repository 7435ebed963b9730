"""Gate CPU and wall time, this tree against another checkout, interleaved in fresh processes.

    .venv/bin/python bench/gate_ab.py --baseline /path/to/other/checkout [--rounds 3]

On a shared machine one run of each after the other drifts with the load; here every round runs
the baseline and then this tree, each in a fresh process judging the same clips (made once): a
6 s 1024x576 24 fps pan that passes, the same pan at 1280x720 30 fps that is repaired to
1024x576 24 fps and judged again, and the fake fal server's Kling-shaped clip (1280x720 30 fps
with an AAC track) of the same still, repaired the same way. Each process judges each clip
once to warm up and then ``--runs`` times, cold (nothing kept of the still between calls);
printed are the medians of CPU seconds per clip over
all rounds and the median of each round's ratio of this tree to the baseline (paired, so load
drift between rounds cancels).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from pathlib import Path
from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import assess_clip, composition
forget = getattr(composition, "forget", lambda: None)  # cold every time: the faces searched
work, runs = Path(sys.argv[1]), int(sys.argv[2])
still = work / "source.png"
params = VideoParams(scene=SceneSpec(content="bench", number=1, image_url=str(still)),
                     motion=MotionSpec(type="pan", duration=6.0))
out = {}
for name in ("passing", "repaired", "kling"):
    clip = work / f"{name}.mp4"
    assess_clip(clip, still, params, work_dir=work / "w")
    spent, walls = [], []
    for _ in range(runs):
        forget()
        start, wall = time.process_time(), time.perf_counter()
        report = assess_clip(clip, still, params, work_dir=work / "w")
        spent.append(time.process_time() - start)
        walls.append(time.perf_counter() - wall)
    out[name] = {"cpu": spent, "wall": walls, "verdict": report.verdict}
print(json.dumps(out))
"""


def _clips(work: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from defect_clips import _image, pan_frames, source_image, write_clip

    source_image(work)
    write_clip(work / "passing.mp4", pan_frames(_image(), 144))
    write_clip(work / "repaired.mp4", pan_frames(_image(), 180, size=(1280, 720)), fps=30)
    from video_agent_dev.fakefal.video import render_clip  # the fake fal server's Kling shape

    (work / "kling.mp4").write_bytes(render_clip((work / "source.png").read_bytes(), width=1280,
                                                 height=720, fps=30, seconds=6.0, audio=True))


def _child(tree: Path, work: Path, runs: int) -> dict[str, dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run([sys.executable, "-c", CHILD, str(work), str(runs)], env=env,
                          check=True, capture_output=True, text=True)
    result: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True,
                        help="another checkout of this project (its src/ is imported)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    trees = {"baseline": opts.baseline.resolve(), "this tree": ROOT}
    spent: dict[tuple[str, str, str], list[float]] = {}
    ratios: dict[tuple[str, str], list[float]] = {}
    verdicts: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _clips(work)
        for _ in range(opts.rounds):
            medians: dict[tuple[str, str, str], float] = {}
            for label, tree in trees.items():
                for clip, row in _child(tree, work, opts.runs).items():
                    for kind in ("cpu", "wall"):
                        runs: list[float] = row[kind]  # type: ignore[assignment]
                        spent.setdefault((label, clip, kind), []).extend(runs)
                        medians[(label, clip, kind)] = statistics.median(runs)
                    verdicts[(label, clip)] = str(row["verdict"])
            for clip in ("passing", "repaired", "kling"):
                for kind in ("cpu", "wall"):
                    ratios.setdefault((clip, kind), []).append(
                        medians[("this tree", clip, kind)] / medians[("baseline", clip, kind)])
    print(f"gate CPU and wall s per clip, medians of {opts.rounds} rounds x {opts.runs} runs "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print("| clip | s | baseline | this tree | this tree / baseline (median of rounds' "
          "ratios) | verdict |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for clip, what in (("passing", "6 s 1024x576 24 fps, passes"),
                       ("repaired", "6 s 1280x720 30 fps, repaired"),
                       ("kling", "6 s 1280x720 30 fps + AAC (fake fal's Kling), repaired")):
        for kind in ("cpu", "wall"):
            base = statistics.median(spent[("baseline", clip, kind)])
            ours = statistics.median(spent[("this tree", clip, kind)])
            ratio = statistics.median(ratios[(clip, kind)])
            print(f"| {what} | {kind} | {base:.2f} | {ours:.2f} | {ratio:.2f} | "
                  f"{verdicts[('this tree', clip)]} |")


if __name__ == "__main__":
    main()
