"""Every camera move of the embedded renderer over stills no test drew, judged by the gate.

    .venv/bin/python bench/sweep.py [--speeds medium,fast] [--seconds 8] [--named]

The stills are scikit-image's samples (the ``test`` extra installs it) and the example stills
in ``examples/stories/images``. Each move is rendered and judged against its still as the
``assess_quality`` node does; ``--named`` gives the example stills the focus words a plan would
name (a face, a cup, a peak, a rocket), so named subjects are kept and judged too. Printed: one
line per clip (verdict, failed reasons, flagged reasons) and the counts. A good renderer clip
the gate fails is a wrong answer of one or the other.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from video_agent.adapters.render import render_clip  # noqa: E402
from video_agent.models import MotionSpec, SceneSpec, VideoParams  # noqa: E402
from video_agent.quality import assess_clip  # noqa: E402

MOVES = ("pan", "tilt", "push_in", "pull_out", "ken_burns", "orbit", "crane", "truck", "static")
NAMED = {"portrait": ["face", "hair"], "coffee_table": ["cup", "menu_book"],
         "mountain_panorama": ["horizon", "peak"], "rocket_launch": ["rocket"]}


def stills(work: Path) -> list[Path]:
    """The scikit-image samples written as PNG, then the example stills."""
    from viewer_stills import SAMPLES, sample

    found = []
    for name in SAMPLES:
        path = work / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(sample(name), cv2.COLOR_RGB2BGR))
        found.append(path)
    return found + sorted(p for p in (ROOT / "examples" / "stories" / "images").iterdir()
                          if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="medium,fast")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--named", action="store_true",
                        help="name the example stills' subjects in the plan")
    opts = parser.parse_args()
    counts = {"pass": 0, "repaired": 0, "fail": 0, "flagged": 0}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for speed in opts.speeds.split(","):
            for still in stills(work):
                words = NAMED.get(still.stem, []) if opts.named else []
                for move in MOVES:
                    motion = MotionSpec(type=move, speed=speed,  # type: ignore[arg-type]
                                        duration=opts.seconds, focus_points=words)
                    clip = work / "clip.mp4"
                    render_clip(still, clip, motion)
                    report = assess_clip(clip, still, VideoParams(
                        scene=SceneSpec(content=still.stem, number=1, image_url=str(still)),
                        motion=motion), work_dir=work / "gate")
                    flagged = [c.reason for c in report.checks if c.status == "flagged"]
                    counts[report.verdict] += 1
                    counts["flagged"] += bool(flagged)
                    print(f"{speed:6} {still.stem:20} {move:9} {report.verdict:8} "
                          f"{'; '.join(report.reasons)}"
                          + (f" [flagged: {'; '.join(flagged)}]" if flagged else ""),
                          flush=True)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
