"""Repair settings benchmark: x264 preset and scaler, quality against CPU, same run.

    .venv/bin/python bench/repair.py [--presets ultrafast,superfast,veryfast,faster]

A 5 s 1280x720 30 fps clip with an AAC track (the shape Kling answers with: a pan over a still
with detail at every scale, made by the fake fal server's renderer) is repaired to 1024x576
24 fps by the gate's one pass with each preset and scale filter. Printed per setting: CPU
seconds of the pass (median of ``--runs``), its ratio to the analysis-only pass of the same run,
the luma PSNR and SSIM of the repaired frames against the source frames scaled with Lanczos in
floating point (the best a repair could do at this size), the bitrate, and x264's profile.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

from video_agent.quality import QualitySettings, plan_repair, probe
from video_agent.quality import transcode as t
from video_agent_dev.fakefal.video import render_clip


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def luma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p")[:f.height].copy()
                for f in container.decode(container.streams.video[0])]


def textured_still(seed: int = 0) -> bytes:
    """A 1920x1080 PNG with detail at every scale (blurred noise octaves), hard to encode."""
    rng = np.random.default_rng(seed)
    image = np.zeros((1080, 1920, 3), np.float32)
    for octave in (1, 3, 9, 27, 81):
        noise = rng.standard_normal((1080, 1920, 3)).astype(np.float32)
        if octave > 1:
            noise = cv2.GaussianBlur(noise, (0, 0), octave) * octave ** 0.5
        image += noise
    image = (image - image.min()) / (image.max() - image.min()) * 255
    return cv2.imencode(".png", image.astype(np.uint8))[1].tobytes()


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)  # noqa: E731
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float((((2 * ma * mb + c1) * (2 * cov + c2))
                  / ((ma * ma + mb * mb + c1) * (va + vb + c2))).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="ultrafast,superfast,veryfast,faster")
    parser.add_argument("--scalers", default="AREA,BICUBIC,LANCZOS")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    settings = QualitySettings()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = work / "kling.mp4"
        clip.write_bytes(render_clip(textured_still(), width=1280, height=720, fps=30,
                                     seconds=5.0, audio=True))
        plan = plan_repair(probe(clip), 5.0, settings, (1024, 576))
        source = luma(clip)
        reference = [cv2.resize(y.astype(np.float32), (1024, 576),
                                interpolation=cv2.INTER_LANCZOS4) for y in source]

        def timed(fn: object) -> float:
            spent = []
            for _ in range(opts.runs):
                before = cpu_s()
                fn()  # type: ignore[operator]
                spent.append(cpu_s() - before)
            return statistics.median(spent)

        floor = timed(lambda: t.one_pass(clip, None, settings))
        print(f"repair of a 5 s 1280x720 30 fps clip with audio -> 1024x576 24 fps; "
              f"analysis-only pass {floor:.2f} CPU s (median of {opts.runs})")
        print("| preset | scaler | CPU s | x analysis | PSNR Y dB | SSIM Y | Mbps | profile |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for preset in opts.presets.split(","):
            for scaler in opts.scalers.split(","):
                t.REPAIR_PRESET, t.SCALE = preset, scaler
                out = work / f"{preset}-{scaler}.mp4"
                spent = timed(lambda o=out: t.one_pass(clip, plan, settings, o))
                info = probe(out)
                frames = luma(out)
                pairs = [(f, reference[min(len(reference) - 1, round(i * 30 / 24))])
                         for i, f in enumerate(frames)]
                psnr = statistics.median(
                    10 * np.log10(255 ** 2 / max(1e-9, float(np.mean((f - r) ** 2))))
                    for f, r in pairs)
                sim = statistics.median(ssim(f, r) for f, r in pairs[::6])
                print(f"| {preset} | {scaler} | {spent:.2f} | {spent / floor:.2f} | "
                      f"{psnr:.2f} | {sim:.4f} | {info.bitrate / 1e6:.2f} | {info.profile} |")


if __name__ == "__main__":
    main()
