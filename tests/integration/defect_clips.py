"""A library of generated clips, good and broken, for the quality gate's tests and benchmark.

Clips are rendered with PyAV and OpenCV only: a camera window moves over a synthetic still with
sub-pixel ``cv2.warpAffine`` (the good case), and each defect changes one thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

SIZE = (1024, 576)
FPS = 24
SECONDS = 4.0


def test_image(seed: int = 1, size: tuple[int, int] = (1536, 1024)) -> np.ndarray:
    """A deterministic RGB still with gradients, shapes and fine texture (like a real photo)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([
        90 + 80 * np.sin(xx / w * np.pi * (1 + seed % 3)),
        100 + 70 * np.cos(yy / h * np.pi * (1 + seed % 2)),
        110 + 60 * np.sin((xx + yy) / (w + h) * 2 * np.pi),
    ], axis=2)
    img = np.clip(base, 0, 255).astype(np.uint8)
    for _ in range(60):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if rng.random() < 0.5:
            cv2.circle(img, center, int(rng.integers(10, 120)), color, -1, cv2.LINE_AA)
        else:
            other = (center[0] + int(rng.integers(-200, 200)),
                     center[1] + int(rng.integers(-200, 200)))
            cv2.rectangle(img, center, other, color, -1, cv2.LINE_AA)
    for i in range(12):
        cv2.putText(img, f"scene {seed}-{i}", (int(rng.integers(0, w - 300)),
                    int(rng.integers(40, h))), cv2.FONT_HERSHEY_SIMPLEX, 1.5,
                    (255, 255, 255), 3, cv2.LINE_AA)
    grain = rng.normal(0, 6, (h // 4, w // 4, 3))
    grain = cv2.resize(grain.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(img.astype(np.float32) + grain, 0, 255).astype(np.uint8)


def camera_frame(image: np.ndarray, zoom: float, cx: float, cy: float,
                 size: tuple[int, int] = SIZE) -> np.ndarray:
    """The 16:9 window of ``image`` at ``zoom`` (1 = widest) centred on (cx, cy), sub-pixel."""
    h, w = image.shape[:2]
    out_w, out_h = size
    win_w = min(w, h * out_w / out_h) / zoom
    k = win_w / out_w
    matrix = np.array([[k, 0, cx - k * (out_w - 1) / 2], [0, k, cy - k * (out_h - 1) / 2]])
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def ease(t: float) -> float:
    return 0.5 - 0.5 * np.cos(np.pi * min(max(t, 0.0), 1.0))


def pan_frames(image: np.ndarray, n: int, size: tuple[int, int] = SIZE, zoom: float = 1.12,
               integer_steps: bool = False, height: float = 0.5) -> Iterator[np.ndarray]:
    """A slow eased pan left to right at a fixed zoom; ``integer_steps`` rounds to whole pixels;
    ``height`` is the window centre's height as a share of the still's."""
    h, w = image.shape[:2]
    win_w = min(w, h * size[0] / size[1]) / zoom
    span = (w - win_w) / 2
    for i in range(n):
        cx = w / 2 - span * 0.5 + span * ease(i / max(n - 1, 1))
        if integer_steps:
            k = win_w / size[0]
            cx = w / 2 + round((cx - w / 2) / k) * k
        yield camera_frame(image, zoom, cx, h * height, size)


def push_frames(image: np.ndarray, n: int, size: tuple[int, int] = SIZE,
                end_zoom: float = 1.15, height: float = 0.5) -> Iterator[np.ndarray]:
    """A push-in that starts on the full 16:9 crop centred at ``height`` (share of the still's
    height; 0.5, the centre crop, by default)."""
    h, w = image.shape[:2]
    for i in range(n):
        zoom = 1.0 + (end_zoom - 1.0) * ease(i / max(n - 1, 1))
        yield camera_frame(image, zoom, w / 2, h * height, size)


def write_clip(path: Path, frames: Iterator[np.ndarray], *, fps: int = FPS,
               bitrate: int = 3_500_000, audio: bool = False, faststart: bool = True,
               cbr: bool = False) -> Path:
    """Encode RGB frames with libx264 (yuv420p); optionally add an AAC tone and skip faststart."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        first = next(frames)
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = first.shape[1], first.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate
        codec_options = {"preset": "ultrafast"}
        if cbr:
            kbps = f"{bitrate // 1000}k"
            codec_options.update({"maxrate": kbps, "bufsize": kbps})
        stream.options = codec_options
        sound = out.add_stream("aac", rate=48000) if audio else None
        count = 0
        for img in (first, *frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = count
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
            count += 1
        out.mux(stream.encode())
        if sound is not None:
            samples = int(48000 * count / fps)
            t = np.arange(samples) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[start:start + 1024].reshape(1, -1)
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                aframe.sample_rate = 48000
                aframe.pts = start
                out.mux(sound.encode(aframe))
            out.mux(sound.encode())
    return path


def _n(seconds: float = SECONDS, fps: int = FPS) -> int:
    return round(seconds * fps)


def _black(frames: Iterator[np.ndarray], start: int, count: int) -> Iterator[np.ndarray]:
    for i, img in enumerate(frames):
        yield np.zeros_like(img) if start <= i < start + count else img


def _freeze(frames: Iterator[np.ndarray], start: int, count: int) -> Iterator[np.ndarray]:
    held = None
    for i, img in enumerate(frames):
        if i == start:
            held = img
        yield held if held is not None and start <= i < start + count else img


def _recolour_from(frames: Iterator[np.ndarray], at: int) -> Iterator[np.ndarray]:
    """Same picture, other colours from frame ``at`` on (red and blue swapped): a cut that
    keeps the structure, so only the colour check can see it."""
    for i, img in enumerate(frames):
        yield np.ascontiguousarray(img[..., ::-1]) if i >= at else img


def _flicker(frames: Iterator[np.ndarray], amount: float) -> Iterator[np.ndarray]:
    for i, img in enumerate(frames):
        gain = 1.0 + (amount if i % 2 else -amount)
        yield np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _cut(first: Iterator[np.ndarray], second: Iterator[np.ndarray], at: int
         ) -> Iterator[np.ndarray]:
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        yield a if i < at else b


def _grain(frames: Iterator[np.ndarray], sigma: float, seed: int = 3) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    for img in frames:
        noise = rng.normal(0, sigma, img.shape).astype(np.float32)
        yield np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Defect:
    """One library clip: how to make it and what the gate must say about it."""

    name: str
    make: Callable[[Path], Path]
    verdict: str
    reason: str
    """Substring expected in the reasons (fail) or repairs (repaired); '' for a pass."""
    metric: str = ""
    """Metric that shows the defect (for the detection table)."""


def _image() -> np.ndarray:
    return _cached(1)


def _other() -> np.ndarray:
    return _cached(7)


_IMAGES: dict[int, np.ndarray] = {}


def _cached(seed: int) -> np.ndarray:
    if seed not in _IMAGES:
        _IMAGES[seed] = test_image(seed)
    return _IMAGES[seed]


def source_image(directory: Path) -> Path:
    """Write the still every library clip was made from (PNG) and return its path."""
    path = directory / "source.png"
    if not path.exists():
        cv2.imwrite(str(path), cv2.cvtColor(_image(), cv2.COLOR_RGB2BGR))
    return path


def _pan(**kw: object) -> Iterator[np.ndarray]:
    return pan_frames(_image(), _n(), **kw)  # type: ignore[arg-type]


def _truncate(path: Path) -> Path:
    good = write_clip(path.with_suffix(".full.mp4"), _pan())
    data = good.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    good.unlink()
    return path


DEFECTS: list[Defect] = [
    Defect("good_pan", lambda p: write_clip(p, _pan()), "pass", ""),
    Defect("good_push_in", lambda p: write_clip(p, push_frames(_image(), _n())), "pass", ""),
    Defect("black_frames", lambda p: write_clip(p, _black(_pan(), 48, 3)), "fail",
           "black frames", "black_frames"),
    Defect("frozen_run", lambda p: write_clip(p, _freeze(_pan(), 30, 30)), "fail",
           "frozen", "frozen_max_s"),
    Defect("hard_cut", lambda p: write_clip(p, _cut(_pan(), pan_frames(_other(), _n()), 50)),
           "fail", "cut", "cuts"),
    Defect("colour_cut", lambda p: write_clip(p, _recolour_from(_pan(), 50)), "fail",
           "colour histogram jump", "max_colour_jump"),
    Defect("jittery_move", lambda p: write_clip(p, _pan(integer_steps=True)), "fail",
           "jitter", "jitter_px"),
    Defect("flicker", lambda p: write_clip(p, _flicker(_pan(), 0.05)), "fail", "flicker",
           "flicker_luma"),
    Defect("other_image", lambda p: write_clip(p, pan_frames(_other(), _n())), "fail",
           "SSIM", "ssim_first"),
    Defect("wrong_fps_30", lambda p: write_clip(p, pan_frames(_image(), _n(fps=30)), fps=30),
           "repaired", "resampled 30", "fps"),
    Defect("wrong_size_1280x720",
           lambda p: write_clip(p, pan_frames(_image(), _n(), size=(1280, 720))),
           "repaired", "scaled 1280x720 -> 1024x576", "width"),
    Defect("small_3x2_768x512",
           lambda p: write_clip(p, pan_frames(_image(), _n(), size=(768, 512))),
           "repaired", "cropped 768x512", "width"),
    Defect("low_bitrate", lambda p: write_clip(p, _pan(), bitrate=600_000, cbr=True),
           "repaired", "bitrate", "bitrate"),
    Defect("high_bitrate", lambda p: write_clip(p, _grain(_pan(), 10.0), bitrate=12_000_000,
                                                cbr=True),
           "repaired", "bitrate", "bitrate"),
    Defect("audio_track", lambda p: write_clip(p, _pan(), audio=True), "repaired",
           "dropped 1 audio stream", "audio_streams"),
    Defect("moov_at_end", lambda p: write_clip(p, _pan(), faststart=False), "repaired",
           "moved moov to front", "moov_front"),
    Defect("short_3s", lambda p: write_clip(p, pan_frames(_image(), _n(3.0))), "repaired",
           "retimed 3.00 -> 4.00 s (declared slow-down", "duration"),
    Defect("truncated", _truncate, "fail", "truncated", ""),
    Defect("not_a_video", lambda p: (p.write_text("this is not a video\n" * 50), p)[1], "fail",
           "not a readable video", ""),
]

BY_NAME = {d.name: d for d in DEFECTS}
