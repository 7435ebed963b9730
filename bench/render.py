"""Renderer benchmark: wall time against the encode floor, smoothness and memory, vs two peers.

    .venv/bin/python bench/render.py [--runs 3] [--image PATH] [--cases push_in,pan]

Every figure comes from this run on this machine:

- encode floor: PyAV encoding the same number of pre-made frames (this renderer's own frames,
  warped into memory beforehand) with the same encoder settings;
- this renderer (standard preset) in a fresh process each run, with its peak memory;
- ffmpeg's ``zoompan`` filter (the ``ffmpeg`` on PATH) and a MoviePy Ken Burns (resize the still,
  crop a whole-pixel box per frame), each given the very same camera path and encoder settings;
  a peer that is not installed is skipped and said so;
- smoothness of every output by one meter (``video_agent_dev.motion_meter``, the gate's motion
  estimator at its precise settings): features tracked between
  consecutive frames, a similarity transform by RANSAC, jitter = RMS deviation of the per-frame
  motion from a smooth fit, and the largest such deviation ("max jump"), in pixels.

Cases: a 6 s 1024x576 slow push-in and a 6 s 1920x1080 slow pan (and, for memory, a 10 s
push-in).  Each round runs every contender once; the table shows medians over ``--runs`` rounds,
the ratio being the median of each round's ratio to that round's floor.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from video_agent.adapters.render import render_clip
from video_agent.adapters.render.encode import ClipEncoder, EncodeSettings
from video_agent.adapters.render.pipeline import PRESETS, frame_cameras, load_rgb, plan_render
from video_agent.adapters.render.trajectory import Camera, plan_trajectory
from video_agent.models import MotionSpec
from video_agent_dev.motion_meter import measure

FPS = 24


@dataclass(frozen=True)
class Case:
    name: str
    motion: str
    size: tuple[int, int]
    duration: float = 6.0
    speed: str = "slow"

    @property
    def frames(self) -> int:
        return round(self.duration * FPS)


CASES = {
    "push_in": Case("push_in 6 s 1024x576", "push_in", (1024, 576)),
    "pan": Case("pan 6 s 1920x1080", "pan", (1920, 1080)),
    "push_in_10s": Case("push_in 10 s 1024x576", "push_in", (1024, 576), duration=10.0),
}


def bench_still(path: Path, w: int = 2560, h: int = 1440) -> Path:
    """A detailed 2560x1440 still: gradients, discs, fine texture and text."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.dstack([xx / w * 200 + 30, yy / h * 180 + 40, (xx + yy) / (w + h) * 150 + 50])
    for _ in range(120):
        cx, cy, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(10, 120))
        cv2.circle(img, (cx, cy), r, [float(v) for v in rng.integers(0, 255, 3)], -1)
    img += cv2.resize(rng.normal(0, 22, (h // 5, w // 5, 3)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC)
    cv2.putText(img, "MORNING CAFE", (w // 6, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 6,
                (255, 255, 255), 12)
    cv2.imwrite(str(path), cv2.cvtColor(img.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


# --------------------------------------------------------------------------- this renderer


def child_render(args: argparse.Namespace) -> None:
    """Run in a fresh process: one render, then print its time and peak memory as JSON."""
    base = _peak_rss_mb()
    motion = MotionSpec(type=args.motion, speed=args.speed, duration=args.duration)
    started = time.perf_counter()
    report = render_clip(args.image, args.out, motion, size=tuple(args.size))
    elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed": elapsed, "peak_mb": _peak_rss_mb(), "base_mb": base,
                      "frames": report.frames, "bitrate": report.bitrate,
                      "settings": report.settings}))


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ours(image: Path, case: Case, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", "--image", str(image), "--out", str(out),
           "--motion", case.motion, "--speed", case.speed, "--duration", str(case.duration),
           "--size", str(case.size[0]), str(case.size[1])]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- encode floor


def raw_frames(image: Path, case: Case) -> list[np.ndarray]:
    """This renderer's frames for the case, exactly as its encoder receives them."""
    plan = plan_render(image, MotionSpec(type=case.motion, speed=case.speed,  # type: ignore[arg-type]
                                         duration=case.duration), size=case.size)
    return [plan.frame(i) for i in range(plan.frames)]


def encode_floor(frames: list[np.ndarray], size: tuple[int, int], out: Path) -> float:
    settings = EncodeSettings(preset=PRESETS["standard"].x264_preset)
    started = time.perf_counter()
    with ClipEncoder(out, size, settings) as encoder:
        for frame in frames:
            encoder.write(frame)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- peers


def camera_path(image: Path, case: Case) -> list[Camera]:
    """The camera this renderer plans for the case (focus points found the same way)."""
    from video_agent.adapters.render.focus import find_focus_points

    rgb = load_rgb(image)
    focus = find_focus_points(rgb, [])
    traj = plan_trajectory(case.motion, src_size=(rgb.shape[1], rgb.shape[0]),  # type: ignore[arg-type]
                           out_size=case.size, duration=case.duration,
                           speed=case.speed, focus=[(p.x, p.y) for p in focus])  # type: ignore[arg-type]
    return [group[0] for group in frame_cameras(traj, case.frames, 1)]


X264_ARGS = ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-preset",
             PRESETS["standard"].x264_preset, "-b:v", "3500k", "-maxrate", "3500k", "-bufsize",
             "7000k", "-x264-params", "nal-hrd=cbr", "-g", "48", "-r", str(FPS),
             "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
             "-color_range", "tv", "-movflags", "+faststart", "-an"]


def zoompan(image: Path, case: Case, cams: list[Camera], src: tuple[int, int],
            out: Path) -> float | None:
    """ffmpeg's zoompan following the same path: zoom and top-left per output frame."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    aspect = case.size[0] / case.size[1]
    # zoompan evaluates its expressions per output frame 'on'; feed the path as a lookup by
    # piecewise expressions would be huge, so use the closed form of the planned move instead
    first, last = cams[0], cams[-1]
    n = case.frames - 1
    p = f"(on/{n})*(on/{n})*(3-2*(on/{n}))"  # ease_in_out, as the plan
    width = f"({first.width}*pow({last.width / first.width},{p}))"
    cx = f"({first.cx}+({last.cx - first.cx})*{p})"
    cy = f"({first.cy}+({last.cy - first.cy})*{p})"
    vf = (f"zoompan=z='{src[0]}/{width}':x='{cx}-{width}/2':y='{cy}-{width}/{aspect}/2'"
          f":d={case.frames}:s={case.size[0]}x{case.size[1]}:fps={FPS}")
    cmd = [ffmpeg, "-y", "-v", "error", "-i", str(image), "-vf", vf,
           "-frames:v", str(case.frames), *X264_ARGS, str(out)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def moviepy_ken_burns(image: Path, case: Case, cams: list[Camera], out: Path) -> float | None:
    """The usual MoviePy recipe: resize the still per frame, crop a whole-pixel box."""
    try:
        from moviepy import ImageClip
    except ImportError:
        return None
    rgb = load_rgb(image)
    wo, ho = case.size
    duration = case.frames / FPS

    def cam_at(t: float) -> Camera:
        return cams[min(len(cams) - 1, round(t * FPS))]

    def scale_at(t: float) -> float:
        return wo / cam_at(t).width

    def crop(get_frame, t: float) -> np.ndarray:  # type: ignore[no-untyped-def]
        frame = get_frame(t)
        cam, s = cam_at(t), scale_at(t)
        x0 = round(cam.cx * s - wo / 2)
        y0 = round(cam.cy * s - ho / 2)
        x0 = min(max(x0, 0), frame.shape[1] - wo)
        y0 = min(max(y0, 0), frame.shape[0] - ho)
        return frame[y0:y0 + ho, x0:x0 + wo]

    clip = ImageClip(rgb, duration=duration).resized(scale_at).transform(crop)
    started = time.perf_counter()
    clip.write_videofile(str(out), fps=FPS, codec="libx264", audio=False, logger=None,
                         bitrate="3500k", preset=PRESETS["standard"].x264_preset,
                         ffmpeg_params=X264_ARGS[2:4] + X264_ARGS[8:])
    return time.perf_counter() - started


# --------------------------------------------------------------------------- table


def smoothness(path: Path) -> tuple[float, float]:
    return measure(path).smoothness()


def run_case(image: Path, case: Case, runs: int, work: Path,
             peers: bool) -> list[dict[str, object]]:
    src = load_rgb(image).shape[1::-1]
    cams = camera_path(image, case)
    rows: dict[str, dict[str, list[float]]] = {}

    def add(name: str, key: str, value: float | None) -> None:
        rows.setdefault(name, {}).setdefault(key, [])
        if value is not None:
            rows[name][key].append(value)

    out_ours = work / f"ours-{case.motion}.mp4"
    frames = raw_frames(image, case)
    peers_fns = {"ffmpeg zoompan": lambda o: zoompan(image, case, cams, src, o),
                 "moviepy ken burns": lambda o: moviepy_ken_burns(image, case, cams, o)}
    skipped: list[str] = []
    # one round runs every contender once, so a busy spell on the machine hits them all
    for _ in range(runs):
        floor = encode_floor(frames, case.size, work / "floor.mp4")
        add("encode floor", "wall", floor)
        add("encode floor", "ratio", 1.0)
        result = ours(image, case, out_ours)
        add("this renderer", "wall", result["elapsed"])
        add("this renderer", "ratio", result["elapsed"] / floor)
        add("this renderer", "peak", result["peak_mb"])
        add("this renderer", "base", result["base_mb"])
        for name, fn in peers_fns.items() if peers else ():
            if name in skipped:
                continue
            elapsed = fn(work / f"{name.split()[0]}-{case.motion}.mp4")
            if elapsed is None:
                skipped.append(name)
                continue
            add(name, "wall", elapsed)
            add(name, "ratio", elapsed / floor)
    del frames
    table = []
    for name, data in rows.items():
        if not data.get("wall"):
            continue
        wall = statistics.median(data["wall"])
        path = {"this renderer": out_ours, "encode floor": None,
                "ffmpeg zoompan": work / f"ffmpeg-{case.motion}.mp4",
                "moviepy ken burns": work / f"moviepy-{case.motion}.mp4"}[name]
        jitter, jump = smoothness(path) if path else (math.nan, math.nan)
        bitrate = path.stat().st_size * 8 / (case.frames / FPS) if path else math.nan
        peak = statistics.median(data["peak"]) if data.get("peak") else math.nan
        base = statistics.median(data["base"]) if data.get("base") else math.nan
        table.append({"case": case.name, "renderer": name, "wall_s": wall,
                      "ratio": statistics.median(data["ratio"]), "jitter_px": jitter,
                      "max_jump_px": jump,
                      "peak_mb": peak, "render_mb": peak - base, "mbps": bitrate / 1e6,
                      "runs": len(data["wall"])})
    for name in skipped:
        table.append({"case": case.name, "renderer": f"{name} (not installed, skipped)"})
    return table


def print_table(rows: list[dict[str, object]]) -> None:
    head = (f"{'case':<22} {'renderer':<20} {'wall s':>7} {'x floor':>8} {'jitter px':>10} "
            f"{'max jump':>9} {'peak MB':>8} {'+render MB':>10} {'Mbps':>5}")
    print(head)
    print("-" * len(head))

    def fmt(value: object, spec: str) -> str:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else format(value, spec)

    for r in rows:
        print(f"{r['case']:<22} {r['renderer']:<20} {fmt(r.get('wall_s'), '7.2f'):>7} "
              f"{fmt(r.get('ratio'), '8.2f'):>8} {fmt(r.get('jitter_px'), '10.4f'):>10} "
              f"{fmt(r.get('max_jump_px'), '9.3f'):>9} {fmt(r.get('peak_mb'), '8.0f'):>8} "
              f"{fmt(r.get('render_mb'), '10.0f'):>10} {fmt(r.get('mbps'), '5.2f'):>5}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--image", type=Path, default=None,
                        help="Still to render (default: a generated detailed 2560x1440 still).")
    parser.add_argument("--cases", default="push_in,pan",
                        help=f"Comma-separated, from {', '.join(CASES)}.")
    parser.add_argument("--no-peers", action="store_true", help="Only this renderer.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the rows here.")
    # used by the benchmark itself to render in a fresh process
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--motion", help=argparse.SUPPRESS)
    parser.add_argument("--speed", default="slow", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=6.0, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, nargs=2, default=[1024, 576], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_render(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp)
        image = args.image or bench_still(work / "still.png")
        print(f"image: {image if args.image else 'generated 2560x1440 still'}; "
              f"runs: {args.runs} (medians); ffmpeg: {shutil.which('ffmpeg') or 'missing'}",
              flush=True)
        rows: list[dict[str, object]] = []
        for key in args.cases.split(","):
            rows += run_case(image, CASES[key.strip()], args.runs, work, not args.no_peers)
        print_table(rows)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
