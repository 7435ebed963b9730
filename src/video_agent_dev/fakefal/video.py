"""Real MP4 clips for the fake server: a slow pan over the submitted still, made with PyAV.

Like a real image-to-video model, the pan keeps the still's faces whole: it runs at the height
that puts the main face on the upper third line, and its start and end windows are settled
with the renderer's framing (a face cut by the frame edge is brought in or left out, the
window widened if need be).

Thread safety: each render opens its own container and codec context; the cache keeps only the
finished bytes (immutable), so renders for several requests may run in worker threads at once.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import replace
from fractions import Fraction

import av
import cv2
import numpy as np

from video_agent.adapters.render.framing import settle
from video_agent.adapters.render.trajectory import Camera
from video_agent.quality.composition import find_faces

VARIANTS = ("ok", "broken", "truncated")


class BadImage(ValueError):
    """The submitted image cannot be decoded."""


def decode_image(data: bytes) -> np.ndarray:
    """RGB array of an encoded still; ``BadImage`` when it is not one."""
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if array is None:
        raise BadImage("not a decodable image")
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def render_clip(image_bytes: bytes, *, width: int, height: int, fps: int, seconds: float,
                audio: bool = False, bitrate: int = 3_000_000) -> bytes:
    """An H.264 MP4: ``seconds`` of a left-to-right pan over the image, optional AAC track."""
    return _render(hashlib.sha256(image_bytes).hexdigest(), image_bytes, width, height, fps,
                   round(seconds, 3), audio, bitrate)


@functools.lru_cache(maxsize=32)
def _render(_digest: str, image_bytes: bytes, width: int, height: int, fps: int,
            seconds: float, audio: bool, bitrate: int) -> bytes:
    image = decode_image(image_bytes)
    margin = 1.12
    big = _cover(image, round(width * margin), round(height * margin))
    start, end = _pan_ends(big, width, height)
    frames = max(1, round(seconds * fps))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=48000)
            sound.layout = "stereo"
        for index in range(frames):
            t = index / max(1, frames - 1)
            ease = 0.5 - 0.5 * np.cos(np.pi * t)
            frame = cv2.warpAffine(big, _window(start, end, float(ease), width, height),
                                   (width, height),
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                   borderMode=cv2.BORDER_REFLECT)
            video_frame = av.VideoFrame.from_ndarray(np.asarray(frame, dtype=np.uint8),
                                                     format="rgb24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            _write_tone(container, sound, seconds)
    return buffer.getvalue()


def _pan_ends(big: np.ndarray, width: int, height: int) -> tuple[Camera, Camera]:
    """Left and right ends of the pan over ``big`` (pixels), settled so no face is cut."""
    h, w = big.shape[:2]
    start = Camera(cx=width / 2, cy=h / 2, width=float(width))
    end = Camera(cx=w - width / 2, cy=h / 2, width=float(width))
    faces = find_faces(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY))
    if not faces:
        return start, end
    boxes = [(x0 * w, y0 * h, x1 * w, y1 * h) for x0, y0, x1, y1
             in (f.head(0.35) for f in faces)]
    # The main face on the upper third line, as the renderer's push-in frames it.
    face = faces[0].box
    cy = min(max((face[1] + face[3]) / 2 * h + height / 6, height / 2), h - height / 2)
    start, end = replace(start, cy=cy), replace(end, cy=cy)
    return (settle(start, boxes, (w, h), width / height),
            settle(end, boxes, (w, h), width / height))


def _window(start: Camera, end: Camera, t: float, width: int, height: int) -> np.ndarray:
    """Output pixel -> ``big`` pixel map of the window ``t`` (0-1) of the way along the pan."""
    cx = start.cx + (end.cx - start.cx) * t
    cy = start.cy + (end.cy - start.cy) * t
    view = start.width * (end.width / start.width) ** t
    k = view / width
    return np.array([[k, 0, cx - view / 2], [0, k, cy - k * height / 2]], dtype=np.float32)


def _write_tone(container: av.container.OutputContainer, stream: av.AudioStream,
                seconds: float) -> None:
    rate, chunk = 48000, 1024
    total = round(seconds * rate)
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        t = (np.arange(start, start + n) / rate).astype(np.float32)
        tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        samples = np.stack([tone, tone])
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def damage(clip: bytes, variant: str) -> bytes:
    """``broken``: bytes that only look like an MP4; ``truncated``: the first 40 %."""
    if variant == "broken":
        rng = np.random.default_rng(len(clip))
        return b"\x00\x00\x00\x18ftypisom" + rng.bytes(max(1024, len(clip) // 4))
    if variant == "truncated":
        return clip[: max(64, int(len(clip) * 0.4))]
    return clip
