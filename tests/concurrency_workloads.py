"""Workloads that hammer the thread-unsafe parts (OpenCV face search) from many threads.

Run in a child process by the stress tests, so a segfault is reported as a failure instead of
taking pytest down::

    python tests/concurrency_workloads.py focus --threads 8 --rounds 30

prints one JSON line: calls made, exceptions raised, results that differ from the
single-threaded ones.
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

import cv2
import numpy as np

from video_agent.adapters.render.focus import find_focus_points
from video_agent.adapters.render.pipeline import load_rgb
from video_agent.quality.repair import _heads

EXAMPLE_IMAGES = Path(__file__).resolve().parents[1] / "examples" / "stories" / "images"
FACE_NAMES = ("face", "hair")


def still_variants() -> list[np.ndarray]:
    """Every example still as RGB, plus a shrunk and an off-centre cropped copy of each: twelve
    stills of different sizes and aspect ratios (so their face searches use different scales)."""
    stills: list[np.ndarray] = []
    for path in sorted(EXAMPLE_IMAGES.glob("*.jpg")):
        rgb = load_rgb(path)
        h, w = rgb.shape[:2]
        stills.append(rgb)
        stills.append(cv2.resize(rgb, (max(320, w * 5 // 8), max(180, h * 5 // 8)),
                                 interpolation=cv2.INTER_AREA))
        stills.append(np.ascontiguousarray(rgb[h // 8:, : max(320, w * 3 // 4)]))
    return stills


def write_still_variants(folder: Path) -> list[Path]:
    """``still_variants`` as PNG files (lossless) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, rgb in enumerate(still_variants()):
        path = folder / f"still_{index:02d}_{rgb.shape[1]}x{rgb.shape[0]}.png"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


Search = tuple[list[dict[str, object]], list[tuple[float, float, float, float]]]


def search(rgb: np.ndarray) -> Search:
    """The face searches a render and a repair make on one still."""
    return [p.as_dict() for p in find_focus_points(rgb, FACE_NAMES)], _heads(rgb)


def focus_stress(threads: int, rounds: int) -> dict[str, object]:
    """``threads`` threads, started together, each searching every still in turn (each thread
    from a different starting still) ``rounds`` times; every result is compared with the
    single-threaded one."""
    stills = still_variants()
    expected = [search(rgb) for rgb in stills]
    errors: list[str] = []
    mismatches: list[str] = []
    calls = [0] * threads
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        start.wait()
        for r in range(rounds):
            i = (t + r) % len(stills)
            try:
                got = search(stills[i])
            except Exception as exc:  # every failure is counted, none stops the others
                errors.append(f"thread {t} still {i}: {type(exc).__name__}: {exc}"[:300])
                continue
            finally:
                calls[t] += 1
            if got != expected[i]:
                mismatches.append(f"thread {t} still {i}: {got!r} != {expected[i]!r}"[:300])

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    faces = sum(points[0]["method"] == "face" for points, _ in expected)
    return {"calls": sum(calls), "stills": len(stills), "stills_with_faces": faces,
            "sizes": sorted({f"{s.shape[1]}x{s.shape[0]}" for s in stills}),
            "errors": errors, "mismatches": mismatches}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["focus"])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(focus_stress(args.threads, args.rounds)))


if __name__ == "__main__":
    main()
