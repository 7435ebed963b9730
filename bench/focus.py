"""Face search and one face-scene render: what keeping classifiers per thread costs.

    .venv/bin/python bench/focus.py [--runs 5] [--searches 30] [--threads 8]

Every figure comes from this run on this machine (medians):

Each figure is a median of wall and of CPU seconds (every thread of the process).

- load: building one Haar classifier from its XML (what a classifier made per call would add
  to every search);
- search: ``find_focus_points`` on the portrait still for a face-centred plan, one call after
  another in one thread;
- render: ``render_clip`` of that scene (6 s slow push-in on the face, 1024x576, standard preset),
  one render after another in one process;
- threads: the same searches spread over ``--threads`` threads, calls per second (0: skipped).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2

from video_agent.adapters.render import render_clip
from video_agent.adapters.render.focus import find_focus_points
from video_agent.adapters.render.pipeline import load_rgb
from video_agent.models import MotionSpec

IMAGE = Path(__file__).resolve().parents[1] / "examples" / "stories" / "images" / "portrait.jpg"
NAMES = ["face", "hair", "menu_book"]


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (all threads of the process) of each run; CPU time is the steadier
    figure on a shared machine."""
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return wall, cpu


def threaded_rate(rgb: object, threads: int, per_thread: int) -> float:
    start = threading.Barrier(threads + 1)

    def work() -> None:
        start.wait()
        for _ in range(per_thread):
            find_focus_points(rgb, NAMES)  # type: ignore[arg-type]

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="renders")
    parser.add_argument("--searches", type=int, default=30, help="searches (and loads)")
    parser.add_argument("--threads", type=int, default=8, help="threads searching at once")
    args = parser.parse_args()
    rgb = load_rgb(IMAGE)
    cascades = cv2.data.haarcascades  # type: ignore[attr-defined]
    xml = str(Path(cascades) / "haarcascade_frontalface_default.xml")
    load = timed(lambda: cv2.CascadeClassifier(xml), args.searches)
    search = timed(lambda: find_focus_points(rgb, NAMES), args.searches)
    motion = MotionSpec(type="push_in", speed="slow", duration=6.0, focus_points=NAMES)
    with tempfile.TemporaryDirectory() as tmp:
        render = timed(lambda: render_clip(IMAGE, Path(tmp) / "clip.mp4", motion), args.runs)
    ms = lambda values: statistics.median(values) * 1000  # noqa: E731
    print(f"load frontal cascade   {ms(load[0]):8.1f} ms wall {ms(load[1]):8.1f} ms CPU")
    print(f"search (1 thread)      {ms(search[0]):8.1f} ms wall {ms(search[1]):8.1f} ms CPU")
    print(f"render face scene      {statistics.median(render[0]):8.2f} s wall "
          f"{statistics.median(render[1]):8.2f} s CPU  "
          f"(wall: {', '.join(f'{t:.2f}' for t in render[0])})")
    if args.threads:
        rate = threaded_rate(rgb, args.threads, max(1, args.searches // args.threads))
        print(f"search ({args.threads} threads)     {rate:8.1f} calls/s")


if __name__ == "__main__":
    main()
