"""Repairs a transcode can make, planned from the probe and applied with PyAV.

A plan lists every change in words before anything is written, so what was repaired is
recorded, never hidden; durations far from the plan are refused rather than stretched.

Thread safety: safe to run for several clips at once.  Every call opens its own PyAV containers
and codec contexts; the face search that places a crop (``composition.find_faces``) borrows
its classifiers from ``video_agent.cascades`` (never shared between threads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from video_agent.models import ProbeInfo, QualityProperty
from video_agent.quality.composition import find_faces
from video_agent.quality.settings import QualitySettings


@dataclass
class Geometry:
    """How decoded frames become target frames: crop box, then scale, then pad."""

    crop: tuple[int, int, int, int] | None = None
    """(x, y, w, h) in source pixels, or None for the whole frame."""
    scaled: tuple[int, int] = (0, 0)
    """Size after scaling (before padding)."""
    pad: tuple[int, int] = (0, 0)
    """Left and top border added to reach the target size."""


@dataclass
class RepairPlan:
    """What must change for a clip to meet the spec."""

    target_size: tuple[int, int]
    fps: int
    out_frames: int = 0
    speed: float = 1.0
    """Output seconds per source second (>1 slows the clip down)."""
    geometry: Geometry | None = None
    encode: bool = False
    remux: bool = False
    steps: list[str] = field(default_factory=list)
    """The repairs, in words."""
    step_properties: list[QualityProperty] = field(default_factory=list)
    """The property each step repairs (``resolution/aspect``, ``duration``, ...), per step."""
    refused: dict[QualityProperty, str] = field(default_factory=dict)
    """Property -> why it cannot be repaired (empty when every miss can be)."""

    def add(self, prop: QualityProperty, step: str) -> None:
        self.steps.append(step)
        self.step_properties.append(prop)

    @property
    def refusals(self) -> list[str]:
        """Why the clip cannot be repaired, each prefixed with its property."""
        return [f"{prop}: {why}" for prop, why in self.refused.items()]

    @property
    def needed(self) -> bool:
        return self.encode or self.remux


def _display_width(info: ProbeInfo) -> float:
    if info.sample_aspect and info.sample_aspect not in ("0:1", "1:1"):
        num, den = (int(v) for v in info.sample_aspect.split(":"))
        if num > 0 and den > 0:
            return info.width * num / den
    return float(info.width)


def plan_geometry(info: ProbeInfo, target: tuple[int, int], max_crop_loss: float
                  ) -> tuple[str, Geometry] | None:
    """Scale, crop (centre, refined later on faces) or pad to the target size; None if already fine.

    A crop is chosen when it loses at most ``max_crop_loss`` of the picture; otherwise the
    whole picture is kept and padded, so the subject always stays in frame (``plan_repair``
    refuses a pad whose bars would take too much of the frame, and too large an upscale).
    """
    tw, th = target
    sar_square = _display_width(info) == info.width
    if (info.width, info.height) == target and sar_square:
        return None
    aspect = _display_width(info) / info.height
    target_aspect = tw / th
    if abs(aspect / target_aspect - 1) < 0.01:
        return (f"scaled {info.width}x{info.height} -> {tw}x{th}",
                Geometry(scaled=target))
    loss = 1 - min(aspect, target_aspect) / max(aspect, target_aspect)
    if loss <= max_crop_loss:
        if aspect > target_aspect:  # too wide: crop the sides
            cw = round(info.height * target_aspect * info.width / _display_width(info))
            crop = ((info.width - cw) // 2, 0, cw, info.height)
        else:  # too tall: crop top and bottom
            ch = round(_display_width(info) / target_aspect)
            crop = (0, (info.height - ch) // 2, info.width, ch)
        return (f"cropped {info.width}x{info.height} -> {crop[2]}x{crop[3]} "
                f"({loss:.0%} of the picture, centred) and scaled -> {tw}x{th}",
                Geometry(crop=crop, scaled=target))
    if aspect > target_aspect:
        sw, sh = tw, max(2, round(tw / aspect / 2) * 2)
    else:
        sw, sh = max(2, round(th * aspect / 2) * 2), th
    kind = "letterbox" if aspect > target_aspect else "pillarbox"
    return (f"scaled {info.width}x{info.height} -> {sw}x{sh} and padded -> {tw}x{th} ({kind}, "
            f"a crop would lose {loss:.0%})",
            Geometry(scaled=(sw, sh), pad=((tw - sw) // 2, (th - sh) // 2)))


def plan_repair(info: ProbeInfo, planned_duration: float, settings: QualitySettings,
                target_size: tuple[int, int]) -> RepairPlan:
    """Decide every repair the clip needs (or why it cannot be repaired)."""
    s = settings
    plan = RepairPlan(target_size=target_size, fps=s.fps)
    geometry = plan_geometry(info, target_size, s.max_crop_loss)
    if geometry is not None:
        plan.add("resolution/aspect", geometry[0])
        plan.geometry = geometry[1]
        plan.encode = True
        _refuse_bad_geometry(plan, info, geometry[1], s)
    src_fps = info.fps or info.real_fps
    if abs(src_fps - s.fps) > 0.01 or (info.real_fps and abs(info.real_fps - s.fps) > 0.01):
        plan.add("frame rate", f"resampled {src_fps:g} -> {s.fps} fps")
        plan.encode = True
    if info.codec != "h264" or info.pix_fmt != "yuv420p":
        plan.add("codec", f"re-encoded {info.codec}/{info.pix_fmt} -> h264/yuv420p")
        plan.encode = True
    if not s.min_bitrate <= info.bitrate <= s.max_bitrate:
        plan.encode = True
        plan.add("bitrate", f"bitrate {info.bitrate / 1e6:.1f} -> "
                            f"{s.repair_bitrate / 1e6:.1f} Mbps")

    duration = info.duration or (info.frame_count / src_fps if src_fps else 0.0)
    target = planned_duration
    if abs(duration - planned_duration) <= s.duration_tolerance_s:
        target = min(max(duration, s.min_duration), s.max_duration)
    gap = target - duration
    if abs(gap) > 0.5 / s.fps:
        change = target / duration if duration > 0 else 0.0
        # A hold is a frozen run: never longer than the gate's own frozen-run limit. A
        # short clip is slowed down instead, and the slow-down is declared in the step.
        hold_limit = min(s.hold_max_s, s.max_frozen_s - 1.0 / s.fps)
        if duration > 0 and abs(change - 1) <= s.retime_max:
            plan.speed = change
            plan.add("duration", f"retimed {duration:.2f} -> {target:.2f} s "
                     f"({'slower' if change > 1 else 'faster'} by {abs(change - 1):.0%})")
        elif 0 < gap <= hold_limit:
            plan.add("duration", f"held last frame {gap:.2f} s to reach {target:.2f} s")
        elif duration > 0 and 1 < change <= 1 + s.retime_short_max:
            plan.speed = change
            plan.add("duration", f"retimed {duration:.2f} -> {target:.2f} s (declared slow-down "
                     f"by {change - 1:.0%}: a {gap:.2f} s hold would freeze the picture)")
        elif 0 < -gap <= s.trim_max_s:
            plan.add("duration", f"trimmed {duration:.2f} -> {target:.2f} s")
        else:
            plan.refused["duration"] = (
                f"duration {duration:.2f} s vs planned {planned_duration:.2f} s: gap "
                f"{abs(gap):.2f} s too large to close (hold <= {max(hold_limit, 0):.2f} s, "
                f"trim <= {s.trim_max_s:g} s, retime <= {s.retime_max:.0%}, declared slow-down "
                f"<= {s.retime_short_max:.0%})"
            )
        plan.encode = True
    plan.out_frames = round(target * s.fps)

    if info.audio_streams:
        plan.add("audio", f"dropped {info.audio_streams} audio stream"
                          f"{'s' if info.audio_streams > 1 else ''}")
        plan.remux = True
    if info.moov_front is False:
        plan.add("container", "moved moov to front")
        plan.remux = True
    return plan


def _refuse_bad_geometry(plan: RepairPlan, info: ProbeInfo, geometry: Geometry,
                        s: QualitySettings) -> None:
    """Refuse bars that would take most of the frame and upscales past ``max_upscale``."""
    tw, th = plan.target_size
    sw, sh = geometry.scaled
    bars = 1 - (sw * sh) / (tw * th)
    if bars > s.max_pad_share:
        plan.refused["resolution/aspect"] = (
            f"{info.width}x{info.height} would need bars over {bars:.0%} of the frame "
            f"(at most {s.max_pad_share:.0%})")
        return
    source_w = geometry.crop[2] if geometry.crop else info.width
    factor = sw / source_w if source_w else 0.0
    if factor > s.max_upscale:
        plan.refused["resolution/aspect"] = (
            f"{info.width}x{info.height} would be enlarged {factor:.1f}x "
            f"(at most {s.max_upscale:g}x)")


HEAD_ABOVE = 0.6
"""Face heights above a face's box a crop keeps (hair and headroom)."""
HEAD_BELOW = 0.25
"""Face heights below a face's box a crop keeps (the chin and neck)."""


def _heads(rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Heads of the confirmed faces (``composition.find_faces``) in pixels ``(x0, y0, x1, y1)``,
    each with its headroom, largest first."""
    h, w = rgb.shape[:2]
    heads = []
    for face in find_faces(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)):
        x0, y0, x1, y1 = face.box
        fh = y1 - y0
        heads.append((x0 * w, max(0.0, y0 - HEAD_ABOVE * fh) * h, x1 * w,
                      min(1.0, y1 + HEAD_BELOW * fh) * h))
    return heads


def _place(lo: float, hi: float, size: int, room: int) -> int:
    """Start of a span of ``size`` in ``[0, room]`` holding ``[lo, hi]`` centred if it fits,
    else its start (the top of a head before its chin)."""
    start = (lo + hi) / 2 - size / 2 if hi - lo <= size else lo
    return round(min(max(start, 0.0), float(room - size)))


def _frame_to_target(rgb: np.ndarray, geometry: Geometry | None, target: tuple[int, int]
                     ) -> np.ndarray:
    if geometry is None:
        return rgb
    if geometry.crop is not None:
        x, y, w, h = geometry.crop
        rgb = rgb[y:y + h, x:x + w]
    sw, sh = geometry.scaled
    if (rgb.shape[1], rgb.shape[0]) != (sw, sh):
        shrink = sw < rgb.shape[1]
        rgb = cv2.resize(rgb, (sw, sh),
                         interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)
    if geometry.pad != (0, 0) or (sw, sh) != target:
        left, top = geometry.pad
        rgb = cv2.copyMakeBorder(rgb, top, target[1] - sh - top, left, target[0] - sw - left,
                                 cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return np.ascontiguousarray(rgb)


def _centre_crop_on_faces(plan: RepairPlan, first: np.ndarray) -> None:
    """Move a crop box onto the confirmed faces of the first frame, if there are any: all their
    heads with headroom when they fit in the box, else the largest one's, kept whole (from the
    top of the head down when even that does not fit)."""
    geometry = plan.geometry
    if geometry is None or geometry.crop is None:
        return
    heads = _heads(first)
    if not heads:
        return
    _, _, w, h = geometry.crop
    union = (min(b[0] for b in heads), min(b[1] for b in heads),
             max(b[2] for b in heads), max(b[3] for b in heads))
    keep = union if union[2] - union[0] <= w and union[3] - union[1] <= h else heads[0]
    fw, fh = first.shape[1], first.shape[0]
    geometry.crop = (_place(keep[0], keep[2], w, fw), _place(keep[1], keep[3], h, fh), w, h)
    plan.steps = [s.replace("centred)", "centred on faces)") for s in plan.steps]
