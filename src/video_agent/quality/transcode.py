"""One pass from a provider's clip to a spec-true clip: decode once, collect the analysis frames
the gate measures, and in the same pass write the repair the plan asks for.

- No repair needed: the clip is decoded for analysis only.
- Container-only repair (audio, moov): the video packets are copied as they are demuxed.
- Encoding repair: every decoded frame is cropped/scaled/padded on its Y, Cb and Cr planes (no
  RGB round trip), resampled to the target rate and encoded by ``ClipEncoder`` (High profile,
  BT.709 limited range, constant-rate HRD at ``repair_bitrate``, moov first).

Thread safety: every call opens its own containers, codec contexts and scalers; run any number of
calls at once from different threads.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from av.stream import Stream
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter
from av.video.stream import VideoStream

from video_agent import faultpoints
from video_agent.adapters.render.encode import ClipEncoder, EncodeSettings, pack_i420, rgb_to_i420
from video_agent.quality.frames import AnalysisCollector, AnalysisFrames
from video_agent.quality.repair import (
    Geometry,
    RepairPlan,
    _centre_crop_on_faces,
    _frame_to_target,
)
from video_agent.quality.retime import in_between, pair_motion
from video_agent.quality.settings import QualitySettings
from video_agent.quality.yuv import to_bt709

REPAIR_PRESET = "superfast"
"""x264 preset of repairs, chosen with ``bench/repair.py``: at 3.5 Mbps it keeps nearly all of
``veryfast``'s quality (luma PSNR 40.9 vs 41.0 dB) for three quarters of its CPU; ``ultrafast``
is cheaper still but writes Constrained Baseline, not the High profile the spec asks for."""
SCALE = "BICUBIC"
"""swscale filter of a plain scale (every 16:9 provider size), chosen with ``bench/repair.py``:
0.5 dB above ``AREA`` after encoding, for about the same CPU."""
SHRINK = cv2.INTER_AREA
"""OpenCV filter shrinking a cropped or padded picture."""
ENLARGE = cv2.INTER_CUBIC
"""OpenCV filter enlarging a cropped or padded picture (Wan, LTX: smaller than the target)."""


@dataclass
class PassResult:
    """What one pass produced."""

    frames: AnalysisFrames
    written: Path | None = None
    """The repaired clip (the ``partial`` path given), or None when nothing was written."""
    frames_written: int = 0
    fed: AnalysisFrames | None = None
    """Analysis frames of the pictures handed to the encoder, as the gate measures a decoded
    clip (None when nothing was encoded): the repaired clip is judged on these, without a
    second decode."""


def _even(value: int) -> int:
    return value - value % 2


class _PlaneScaler:
    """Crop, scale and pad one decoded frame to the target size as a yuv420p picture.

    A plain scale is one swscale call in YUV (``SCALE``); a crop or pad works on the Y, Cb and
    Cr planes with OpenCV. Neither goes through RGB. A source that is not BT.709 limited
    range is converted on the planes at the target size (``yuv.to_bt709``).
    """

    def __init__(self, geometry: Geometry | None, target: tuple[int, int]) -> None:
        self.geometry = geometry
        self.target = target
        self._reformatter = VideoReformatter()

    def _bt709(self, frame: av.VideoFrame, size: tuple[int, int] | None = None
               ) -> np.ndarray:
        """``frame`` as a packed limited-range BT.709 yuv420p picture (scaled to ``size`` if
        given): an untagged or BT.601 source is converted, not just tagged, so its colours
        survive the repair."""
        full = frame.color_range == ColorRange.JPEG or frame.format.name.startswith("yuvj")
        bt709 = frame.colorspace == 1
        width, height = size if size is not None else (frame.width, frame.height)
        if frame.format.name != "yuv420p" or (frame.width, frame.height) != (width, height):
            space = Colorspace.ITU709 if bt709 else Colorspace.DEFAULT
            span = ColorRange.JPEG if full else ColorRange.MPEG
            frame = self._reformatter.reformat(
                frame, width=width, height=height, format="yuv420p", interpolation=SCALE,
                src_colorspace=space, dst_colorspace=space, src_color_range=span,
                dst_color_range=span, threads=1)
        block = frame.to_ndarray()
        if bt709 and not full:
            return block
        return to_bt709(block, "bt709" if bt709 else "bt601", full)

    def block(self, frame: av.VideoFrame) -> np.ndarray:
        """The target picture of ``frame``, packed yuv420p (``(H * 3 // 2, W)`` uint8)."""
        tw, th = self.target
        g = self.geometry
        if g is None or (g.crop is None and g.scaled == self.target):
            return self._bt709(frame, (tw, th))
        if frame.width % 2 or frame.height % 2:  # odd sizes: no clean chroma planes
            rgb = _frame_to_target(frame.to_ndarray(format="rgb24"), g, self.target)
            return rgb_to_i420(rgb)
        y, u, v = _planes(self._bt709(frame))  # the planes below are copied as they are
        if g.crop is not None:
            x0, y0, cw, ch = (_even(value) for value in g.crop)
            y = y[y0:y0 + ch, x0:x0 + cw]
            u = u[y0 // 2:(y0 + ch) // 2, x0 // 2:(x0 + cw) // 2]
            v = v[y0 // 2:(y0 + ch) // 2, x0 // 2:(x0 + cw) // 2]
        sw, sh = g.scaled
        if (y.shape[1], y.shape[0]) != (sw, sh):
            how = SHRINK if sw < y.shape[1] else ENLARGE
            y = cv2.resize(y, (sw, sh), interpolation=how)
            u = cv2.resize(u, (sw // 2, sh // 2), interpolation=how)
            v = cv2.resize(v, (sw // 2, sh // 2), interpolation=how)
        left, top = _even(g.pad[0]), _even(g.pad[1])
        big_y = np.full((th, tw), 16, np.uint8)
        big_c = np.full((th // 2, tw // 2, 2), 128, np.uint8)
        big_y[top:top + sh, left:left + sw] = y
        big_c[top // 2:(top + sh) // 2, left // 2:(left + sw) // 2, 0] = u
        big_c[top // 2:(top + sh) // 2, left // 2:(left + sw) // 2, 1] = v
        return pack_i420(big_y, big_c)

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.block(frame), format="yuv420p")


class _Resampler:
    """Places source frames on the target's frame grid: each output tick shows the source frame
    nearest in (retimed) time; the last frame is held up to ``out_frames``. A source frame is
    scaled only if some tick shows it. A declared slow-down (``plan.speed`` > 1) or a rate change
    shows in-between frames moved along the camera's motion instead of repeats or skips, which
    the gate's jitter check would see as a stutter."""

    def __init__(self, plan: RepairPlan, encoder: ClipEncoder, scaler: _PlaneScaler,
                 source_fps: float = 0.0, fed: AnalysisCollector | None = None) -> None:
        self.plan, self.encoder, self.scaler = plan, encoder, scaler
        self.fed = fed
        # A rate change (30 -> 24 fps) that only picks the nearest frame drops every fifth one:
        # the camera path judders (the gate's jitter check sees 0.4 px). In-betweens keep it.
        self.interpolate = plan.speed > 1 or (
            source_fps > 0 and abs(source_fps - plan.fps) > 0.01)
        self.emitted = 0
        self.held: av.VideoFrame | None = None
        self.held_time = 0.0
        self._held_block: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self.emitted >= self.plan.out_frames

    def _due(self, until: float | None) -> bool:
        plan = self.plan
        return self.emitted < plan.out_frames and (
            until is None or self.emitted / plan.fps / plan.speed < until)

    def _write(self, frame: av.VideoFrame) -> None:
        self.encoder.write_frame(frame)  # tags it: tick time, BT.709 limited range
        if self.fed is not None:
            self.fed.add(frame)
        self.emitted += 1
        if self.emitted == self.plan.out_frames // 2:
            faultpoints.hit("repair_mid_encode")

    def _emit(self, held: av.VideoFrame, until: float | None) -> None:
        """Ticks before source time ``until`` (None: to the end), each the held frame."""
        block: np.ndarray | None = None
        while self._due(until):
            if block is None:
                block = self.scaler.block(held)
            # a fresh frame object for every tick, the same picture
            self._write(av.VideoFrame.from_ndarray(block, format="yuv420p"))

    def _emit_towards(self, held: av.VideoFrame, after: av.VideoFrame, until: float) -> None:
        """Ticks before source time ``until``: in-betweens from the held frame to ``after``.

        A rate change (neighbours 1/30 s apart) blends the two frames, as a frame-rate filter
        does; a declared slow-down (frames shown far apart) moves both along the camera's motion
        first, on the Y, Cb and Cr planes, so the move carries on instead of cross-fading.
        """
        if self._held_block is None:
            self._held_block = self.scaler.block(held)
        a = self._held_block
        b = self.scaler.block(after)
        slow = self.plan.speed > 1
        motion = chroma = None
        pa, pb = _planes(a), _planes(b)
        if slow:
            motion = pair_motion(pa[0], pb[0])
            if motion is not None:
                chroma = motion.copy()
                chroma[:, 2] /= 2  # half-size planes: same turn and zoom, half the shift
        span = until - self.held_time
        plan = self.plan
        while self._due(until):
            at = self.emitted / plan.fps / plan.speed
            weight = min(1.0, max(0.0, (at - self.held_time) / span)) if span > 0 else 0.0
            if weight <= 0.0:
                block = a
            elif not slow or motion is None:
                block = cv2.addWeighted(a, 1 - weight, b, weight, 0)
            else:
                block = _pack(in_between(pa[0], pb[0], weight, motion),
                              in_between(pa[1], pb[1], weight, chroma),
                              in_between(pa[2], pb[2], weight, chroma))
            self._write(av.VideoFrame.from_ndarray(block, format="yuv420p"))
        self._held_block = b

    def add(self, frame: av.VideoFrame, t: float) -> None:
        held = self.held
        if held is not None and self.interpolate:
            self._emit_towards(held, frame, t)
        elif held is not None:
            self._emit(held, (self.held_time + t) / 2)
        self.held, self.held_time = frame, t

    def finish(self) -> None:
        if self.held is not None:
            self._emit(self.held, None)


def _planes(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, Cb and Cr planes of a packed yuv420p picture of even size."""
    h, w = block.shape[0] * 2 // 3, block.shape[1]
    flat = block[h:].reshape(-1)
    quarter = (h // 2) * (w // 2)
    return (block[:h], flat[:quarter].reshape(h // 2, w // 2),
            flat[quarter:].reshape(h // 2, w // 2))


def _pack(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    h, w = y.shape
    return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)


def repair_settings(settings: QualitySettings, plan: RepairPlan) -> EncodeSettings:
    """The encoder settings of a repair: the spec's rate, a 2 s VBV buffer, the chosen preset."""
    return EncodeSettings(fps=plan.fps, bitrate=settings.repair_bitrate,
                          bufsize=2 * settings.repair_bitrate, preset=REPAIR_PRESET,
                          gop=2 * plan.fps)


def one_pass(src: str | Path, plan: RepairPlan | None, settings: QualitySettings,
             partial: str | Path | None = None) -> PassResult:
    """Decode ``src`` once into analysis frames and, when ``plan`` needs a repair and
    ``partial`` is given, write the repaired clip there in the same pass.

    Decoding errors do not raise: the frames so far are kept (``frames.error`` says why), and a
    half-written repair is removed. Encoder and muxer errors raise, with ``partial`` removed.
    """
    partial = Path(partial) if partial is not None else None
    write = plan is not None and plan.needed and partial is not None
    error: str | None = None
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = float(stream.time_base or 0) or 1 / 90000
        collector = AnalysisCollector(settings.analysis_width, time_base)
        encoder: ClipEncoder | None = None
        copy: av.container.OutputContainer | None = None
        copy_stream = None
        resampler: _Resampler | None = None
        fed: AnalysisCollector | None = None
        try:
            if write and plan is not None and partial is not None and plan.encode:
                encoder = ClipEncoder(partial, plan.target_size, repair_settings(settings, plan))
                fed = AnalysisCollector(settings.analysis_width, 1 / plan.fps)
                resampler = _Resampler(plan, encoder,
                                       _PlaneScaler(plan.geometry, plan.target_size),
                                       float(stream.average_rate or 0), fed)
            elif write:
                copy = av.open(str(partial), "w", format="mp4",
                               options={"movflags": "+faststart"})
                copy_stream = copy.add_stream_from_template(stream)
            start: float | None = None
            try:
                for packet in inp.demux(stream):
                    if copy is not None and copy_stream is not None and packet.dts is not None:
                        copy.mux(_copied(packet, copy_stream))
                    for frame in packet.decode():
                        t = collector.add(frame)
                        if resampler is None or resampler.done:
                            continue
                        start = t if start is None else start
                        held, geometry = resampler.held, resampler.plan.geometry
                        if held is None and geometry is not None and geometry.crop is not None:
                            _centre_crop_on_faces(resampler.plan,
                                                  frame.to_ndarray(format="rgb24"))
                        resampler.add(frame, t - start)
            except (av.error.FFmpegError, ValueError) as exc:
                error = f"decoding stopped after {collector.count} frames: {exc}"
            if error is None and resampler is not None:
                resampler.finish()
        except BaseException:
            _discard(encoder, copy, partial)
            raise
        if error is not None:
            _discard(encoder, copy, partial)
            return PassResult(collector.finish(error))
        if encoder is not None:
            encoder.close()
        if copy is not None:
            copy.close()
    frames = collector.finish()
    if not write:
        return PassResult(frames)
    return PassResult(frames, written=partial,
                      frames_written=resampler.emitted if resampler else frames.count,
                      fed=fed.finish() if fed is not None else None)


def _copied(packet: av.Packet[VideoStream], stream: VideoStream) -> av.Packet[Stream]:
    """A copy of ``packet`` for ``stream`` (the original still goes to the decoder)."""
    out = av.Packet(bytes(packet))
    out.pts, out.dts, out.duration = packet.pts, packet.dts, packet.duration
    out.time_base = packet.time_base
    out.is_keyframe = packet.is_keyframe
    out.stream = stream
    return out


def _discard(encoder: ClipEncoder | None, copy: av.container.OutputContainer | None,
             partial: Path | None) -> None:
    if encoder is not None:
        encoder.abort()
    if copy is not None:
        with contextlib.suppress(Exception):
            copy.close()
    if partial is not None:
        partial.unlink(missing_ok=True)


def apply_repair(src: str | Path, dst: str | Path, plan: RepairPlan,
                 settings: QualitySettings) -> Path:
    """Write the repaired clip to ``dst`` (H.264 yuv420p, no audio, moov first).

    The gate itself repairs during its analysis pass (``one_pass``); this is the same
    pass for a caller that only wants the file.
    """
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_name(dst.name + ".partial")
    result = one_pass(src, plan, settings, partial)
    if result.written is None:
        raise ValueError(f"{src}: {result.frames.error or 'nothing to repair'}")
    partial.replace(dst)
    return dst
