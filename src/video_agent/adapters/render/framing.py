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
from video_agent.models import Conflict

Box = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` in source pixels."""
MARGIN = 0.02
"""Room kept between a box and the frame edge, as a share of the crop width."""
WIDEN_STEPS = 6
KEEP = 0.3
MIN_TRAVEL = 0.25
"""Keeping a named subject's box whole may not shorten a move below this share of its travel."""
CORE_INSET = 0.06
"""A named subject's core: its box less this share of its size on each side. Whole in frame,
it leaves at least 88% of the box in frame (the gate asks for ``min_face_coverage``, 85%)."""
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


def _travel(keys: Sequence[Camera]) -> float:
    """How far a move goes, pixels: its centre's path plus its change of width."""
    return (math.hypot(keys[-1].cx - keys[0].cx, keys[-1].cy - keys[0].cy)
            + abs(keys[-1].width - keys[0].width))


def _core(box: Box) -> Box:
    """``box`` with ``CORE_INSET`` of its size taken off each side."""
    dx, dy = CORE_INSET * (box[2] - box[0]), CORE_INSET * (box[3] - box[1])
    return box[0] + dx, box[1] + dy, box[2] - dx, box[3] - dy


def _settled_ends(traj: Trajectory, boxes: Sequence[Box]) -> list[Camera]:
    src = (float(traj.src_size[0]), float(traj.src_size[1]))
    keys = list(traj.keyframes)
    first = settle(keys[0], boxes, src, traj.aspect)
    last = settle(keys[-1], boxes, src, traj.aspect)
    return [first, *keys[1:-1], last] if len(keys) > 1 else [last]


def frame_ends(traj: Trajectory, subjects: Sequence[Box], named: Sequence[Box] = ()
               ) -> Trajectory:
    """``traj`` with its first and last keyframes settled so no subject box is cut.

    ``subjects`` are normalised ``(x0, y0, x1, y1)`` boxes of faces with their headroom,
    ``named`` those of the plan's named subjects (saliency boxes). A pan or tilt whose ends
    are settled apart travels a little less (or more), a settled end that had to widen adds a
    slight zoom; ``settings["subjects_framed"]`` counts the ends moved. A named subject's box
    is a rough region: when keeping it whole would leave less than ``MIN_TRAVEL`` of the
    move, only its core is kept whole (``CORE_INSET``), and failing that it is left as planned
    (``settings["named_kept"]`` says which: "whole", "core" or "no").
    """
    if not subjects and not named:
        return traj
    src_w, src_h = float(traj.src_size[0]), float(traj.src_size[1])

    def px(boxes: Sequence[Box]) -> list[Box]:
        return [(x0 * src_w, y0 * src_h, x1 * src_w, y1 * src_h) for x0, y0, x1, y1 in boxes]

    faces, boxes = px(subjects), px(named)
    planned = list(traj.keyframes)
    floor = MIN_TRAVEL * _travel(planned)
    keys, kept = _settled_ends(traj, faces + boxes), "whole"
    conflicts = list(traj.conflicts)
    if boxes and _travel(keys) < floor:
        whole_share = _travel(keys) / _travel(planned)
        keys, kept = _settled_ends(traj, faces + [_core(b) for b in boxes]), "core"
        if _travel(keys) < floor:
            keys, kept = _settled_ends(traj, faces), "no"
        conflicts.append(Conflict(
            field="motion.focus_points", requested="named subjects whole at both ends",
            resolved="only their core kept whole" if kept == "core" else "move kept as planned",
            reason=f"keeping every named subject whole would leave {whole_share:.0%} of the "
                   f"move's travel (at least {MIN_TRAVEL:.0%}); "
                   + (f"its core (the box less {CORE_INSET:.0%} on each side) is kept whole"
                      if kept == "core" else "a named subject may be cut at an end")))
    moved = int(keys[0] != planned[0]) + int(keys[-1] != planned[-1])
    narrowest = min(k.width for k in planned)
    settings = {**traj.settings, "subjects_framed": moved}
    if boxes:
        settings["named_kept"] = kept
    upscale = settings.get("max_upscale")
    if moved and isinstance(upscale, float):
        settings["max_upscale"] = round(upscale * narrowest / min(k.width for k in keys), 3)
    if moved:
        settings["zoom"] = round(float(keys[0].width / keys[-1].width), 4)
        settings["travel_px"] = [round(float(keys[-1].cx - keys[0].cx), 2),
                                 round(float(keys[-1].cy - keys[0].cy), 2)]
    return replace(traj, keyframes=keys, settings=settings, conflicts=conflicts)
