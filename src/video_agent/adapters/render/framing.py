"""Keep subjects whole at the ends of a move: no face or named subject cut by the frame edge.

A planned end camera that cuts a subject box (a face with its headroom, or the box of a named
focus subject) is moved the least
that shows each box whole or leaves it out entirely, and only when no position of that width
does so is the crop widened, step by step up to the widest crop the still allows. Boxes the
planned camera showed whole stay whole, and boxes it showed mostly are brought in rather than
pushed out, when any such position exists.

Thread safety: pure functions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace

from video_agent.adapters.render.trajectory import Camera, Trajectory, clamp, max_width

Box = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` in source pixels."""
MARGIN = 0.02
"""Room kept between a box and the frame edge, as a share of the crop width."""
WIDEN_STEPS = 6
KEEP = 0.3
"""A box the planned camera shows at least this much of is brought whole into frame (by a
shift, or by widening) rather than pushed out, when any position allows it."""


def _share(box: Box, cam: Camera, aspect: float) -> float:
    hw, hh = cam.width / 2, cam.width / aspect / 2
    w = max(0.0, min(box[2], cam.cx + hw) - max(box[0], cam.cx - hw))
    h = max(0.0, min(box[3], cam.cy + hh) - max(box[1], cam.cy - hh))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return w * h / area if area > 0 else 1.0


def cut_boxes(cam: Camera, boxes: Sequence[Box], aspect: float) -> list[int]:
    """Indices of the boxes the camera shows only in part."""
    return [k for k, b in enumerate(boxes) if 1e-6 < _share(b, cam, aspect) < 1 - 1e-6]


def _positions(centre: float, half: float, lo: Sequence[float], hi: Sequence[float],
               margin: float) -> list[float]:
    """Centres along one axis that put some box edge just inside or just outside the frame."""
    found = [centre]
    for a, b in zip(lo, hi, strict=True):
        found += [b - half + margin, a + half - margin, a - half - margin, b + half + margin]
    return found


def settle(cam: Camera, boxes: Sequence[Box], src_size: tuple[float, float],
           aspect: float) -> Camera:
    """The nearest camera to ``cam`` that cuts none of ``boxes`` (see the module's note)."""
    src_w, src_h = src_size
    if not boxes or not cut_boxes(cam, boxes, aspect):
        return cam
    shares = [_share(b, cam, aspect) for b in boxes]
    whole = {k for k, c in enumerate(shares) if c >= 1 - 1e-6}
    meant = {k for k, c in enumerate(shares) if KEEP <= c < 1 - 1e-6}
    widest = max_width(src_w, src_h, aspect, cam.angle)
    steps = [cam.width * (widest / cam.width) ** (i / WIDEN_STEPS) for i in range(WIDEN_STEPS + 1)]
    fallback: tuple[tuple[float, ...], Camera] | None = None
    for width in steps:
        margin = MARGIN * width
        xs = _positions(cam.cx, width / 2, [b[0] for b in boxes], [b[2] for b in boxes], margin)
        ys = _positions(cam.cy, width / aspect / 2, [b[1] for b in boxes],
                        [b[3] for b in boxes], margin / aspect)
        best: tuple[tuple[float, ...], Camera] | None = None
        for x, y in itertools.product(xs, ys):
            moved = clamp(replace(cam, cx=x, cy=y, width=width), src_w, src_h, aspect)
            cuts = len(cut_boxes(moved, boxes, aspect))
            lost = sum(1 for k in whole if _share(boxes[k], moved, aspect) < 1 - 1e-6)
            dropped = sum(1 for k in meant if _share(boxes[k], moved, aspect) < 1 - 1e-6)
            cost = (float(cuts), float(lost), float(dropped), width,
                    math.hypot(moved.cx - cam.cx, moved.cy - cam.cy))
            if best is None or cost < best[0]:
                best = (cost, moved)
            if fallback is None or cost < fallback[0]:
                fallback = (cost, moved)
        if best is not None and best[0][:3] == (0, 0, 0):
            return best[1]
    assert fallback is not None
    return fallback[1]


def frame_ends(traj: Trajectory, subjects: Sequence[Box]) -> Trajectory:
    """``traj`` with its first and last keyframes settled so no subject box is cut.

    ``subjects`` are normalised ``(x0, y0, x1, y1)`` boxes (faces with their headroom, named
    subjects' saliency boxes). A pan
    or tilt whose ends are settled apart travels a little less (or more), a settled end that
    had to widen adds a slight zoom; ``settings["subjects_framed"]`` counts the ends moved.
    """
    if not subjects:
        return traj
    src_w, src_h = float(traj.src_size[0]), float(traj.src_size[1])
    boxes = [(x0 * src_w, y0 * src_h, x1 * src_w, y1 * src_h) for x0, y0, x1, y1 in subjects]
    keys = list(traj.keyframes)
    first = settle(keys[0], boxes, (src_w, src_h), traj.aspect)
    last = settle(keys[-1], boxes, (src_w, src_h), traj.aspect)
    moved = int(first != keys[0]) + int(last != keys[-1])
    narrowest = min(k.width for k in keys)
    keys = [first, *keys[1:-1], last] if len(keys) > 1 else [last]
    settings = {**traj.settings, "subjects_framed": moved}
    upscale = settings.get("max_upscale")
    if moved and isinstance(upscale, float):
        settings["max_upscale"] = round(upscale * narrowest / min(k.width for k in keys), 3)
    if moved:
        settings["zoom"] = round(float(keys[0].width / keys[-1].width), 4)
        settings["travel_px"] = [round(float(keys[-1].cx - keys[0].cx), 2),
                                 round(float(keys[-1].cy - keys[0].cy), 2)]
    return replace(traj, keyframes=keys, settings=settings)
