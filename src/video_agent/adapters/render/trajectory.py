"""Camera trajectories over a still image: where the virtual camera looks at every instant.

A :class:`Camera` is a crop of the source: centre, width (the height follows from the output's
aspect ratio) and roll, all in continuous source pixels (the image spans ``[0, W] x [0, H]``).
:func:`plan_trajectory` turns a motion (type, speed, direction, duration, easing, focus points)
into keyframes that stay inside the source; :class:`Trajectory` interpolates them smoothly:
centres and roll linearly (two keyframes) or along a Catmull-Rom spline (more), the crop width
geometrically, so a zoom looks uniform.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from video_agent.models import Conflict, Easing, MotionType, Speed

# Travel per second at motion_scale 1.0: translation as a fraction of the view size, zoom as the
# natural log of the zoom factor.  A slow 6 s push-in at the default scale 0.8 zooms ~1.2x.
TRAVEL_RATE: dict[Speed, float] = {"slow": 0.03, "medium": 0.06, "fast": 0.10}
ZOOM_RATE: dict[Speed, float] = {"slow": 0.04, "medium": 0.07, "fast": 0.11}
ROLL_DEG: dict[Speed, float] = {"slow": 1.0, "medium": 1.8, "fast": 2.6}
MAX_ZOOM = 2.0
"""Tightest crop relative to the full (cover) framing."""
KEN_BURNS_START_ZOOM = 1.06
"""A Ken Burns move starts slightly in, so it has room to drift toward its subject."""
KEN_BURNS_MERGE = 0.25
"""Focus points closer than this share of the final crop's width to an earlier one are not
separate stops of a Ken Burns tour."""
BREATHING_ZOOM = 0.012
"""Zoom of the 'static' hold (plus the same again times motion_scale): alive, not moving."""

DIRECTIONS: dict[str, tuple[str, ...]] = {
    "pan": ("left_to_right", "right_to_left"),
    "tilt": ("up", "down"),
    "truck": ("left", "right"),
    "crane": ("up", "down"),
    "orbit": ("clockwise", "counterclockwise"),
}
DEFAULT_DIRECTION = {kind: options[0] for kind, options in DIRECTIONS.items()}


# --------------------------------------------------------------------------- easing


def _linear(u: float) -> float:
    return u


def _ease_in_out(u: float) -> float:
    return u * u * (3.0 - 2.0 * u)


def _ease_in(u: float) -> float:
    return u * u


def _ease_out(u: float) -> float:
    return 1.0 - (1.0 - u) * (1.0 - u)


EASINGS: dict[Easing, Callable[[float], float]] = {
    "linear": _linear,
    "ease_in_out": _ease_in_out,
    "ease_in": _ease_in,
    "ease_out": _ease_out,
}


def ease(name: Easing, u: float) -> float:
    """Eased progress in [0, 1] for normalised time ``u`` in [0, 1] (monotonic)."""
    return EASINGS[name](min(1.0, max(0.0, u)))


# --------------------------------------------------------------------------- camera


@dataclass(frozen=True)
class Camera:
    """A crop of the source: centre and width in source pixels, roll in degrees."""

    cx: float
    cy: float
    width: float
    angle: float = 0.0

    def height(self, aspect: float) -> float:
        return self.width / aspect

    def extents(self, aspect: float) -> tuple[float, float]:
        """Half width and half height of the axis-aligned box around the (rolled) crop."""
        a, b = self.width / 2.0, self.width / aspect / 2.0
        c, s = abs(math.cos(math.radians(self.angle))), abs(math.sin(math.radians(self.angle)))
        return a * c + b * s, a * s + b * c

    def inside(self, src_w: float, src_h: float, aspect: float, tol: float = 1e-6) -> bool:
        ex, ey = self.extents(aspect)
        return (self.cx - ex >= -tol and self.cx + ex <= src_w + tol
                and self.cy - ey >= -tol and self.cy + ey <= src_h + tol)


def max_width(src_w: float, src_h: float, aspect: float, angle: float = 0.0) -> float:
    """Widest crop of this aspect and roll that fits inside the source."""
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    return min(src_w / (c + s / aspect), src_h / (s + c / aspect))


def clamp(cam: Camera, src_w: float, src_h: float, aspect: float) -> Camera:
    """The nearest camera that shows only source pixels: shrink if too wide, then shift in."""
    width = min(cam.width, max_width(src_w, src_h, aspect, cam.angle))
    cam = replace(cam, width=width)
    ex, ey = cam.extents(aspect)
    return replace(cam, cx=min(max(cam.cx, ex), src_w - ex), cy=min(max(cam.cy, ey), src_h - ey))


# --------------------------------------------------------------------------- trajectory


@dataclass
class Trajectory:
    """Keyframed camera path over normalised time, eased, always inside the source."""

    keyframes: list[Camera]
    src_size: tuple[int, int]
    aspect: float
    easing: Easing = "ease_in_out"
    conflicts: list[Conflict] = field(default_factory=list)
    settings: dict[str, object] = field(default_factory=dict)

    def at(self, u: float) -> Camera:
        """The camera at normalised time ``u`` (0 = first frame, 1 = last frame)."""
        p = ease(self.easing, u)
        keys = self.keyframes
        if len(keys) == 1:
            cam = keys[0]
        elif len(keys) == 2:
            a, b = keys
            cam = Camera(
                cx=a.cx + (b.cx - a.cx) * p,
                cy=a.cy + (b.cy - a.cy) * p,
                width=a.width * (b.width / a.width) ** p,
                angle=a.angle + (b.angle - a.angle) * p,
            )
        else:
            cam = _catmull_rom(keys, p)
        return clamp(cam, *self.src_size, self.aspect)

    def sample(self, frames: int) -> list[Camera]:
        """One camera per frame, first and last exactly on the first and last keyframe."""
        if frames <= 1:
            return [self.at(0.0)]
        return [self.at(i / (frames - 1)) for i in range(frames)]

    @property
    def smallest_width(self) -> float:
        """Narrowest crop along the path (sets how far the source may be downscaled)."""
        return min(self.at(u).width for u in np.linspace(0.0, 1.0, 33))


def _catmull_rom(keys: Sequence[Camera], p: float) -> Camera:
    """Uniform Catmull-Rom through the keyframes (log width), end tangents by reflection."""
    pts = np.array([[k.cx, k.cy, math.log(k.width), k.angle] for k in keys])
    pts = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
    n = len(keys) - 1
    seg = min(int(p * n), n - 1)
    t = p * n - seg
    p0, p1, p2, p3 = pts[seg], pts[seg + 1], pts[seg + 2], pts[seg + 3]
    t2, t3 = t * t, t * t * t
    v = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
               + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
    return Camera(cx=float(v[0]), cy=float(v[1]), width=math.exp(v[2]), angle=float(v[3]))


# --------------------------------------------------------------------------- planning


def resolve_direction(motion: MotionType, direction: str | None,
                      conflicts: list[Conflict]) -> str | None:
    """The motion's direction in the shared vocabulary; unknown ones fall back with a conflict."""
    options = DIRECTIONS.get(motion)
    if options is None:
        return None
    if direction is None:
        return DEFAULT_DIRECTION[motion]
    norm = direction.strip().lower().replace("-", "_").replace(" ", "_")
    if norm in options:
        return norm
    resolved = DEFAULT_DIRECTION[motion]
    conflicts.append(Conflict(
        field="motion.direction", requested=direction, resolved=resolved,
        reason=f"{direction!r} is not a direction of {motion} (use {' or '.join(options)})"))
    return resolved


def plan_trajectory(
    motion: MotionType,
    *,
    src_size: tuple[int, int],
    out_size: tuple[int, int],
    duration: float,
    speed: Speed = "slow",
    direction: str | None = None,
    easing: Easing = "ease_in_out",
    motion_scale: float = 0.8,
    focus: Sequence[tuple[float, float]] = (),
) -> Trajectory:
    """Keyframes for one camera move over a source of ``src_size`` (pixels).

    ``focus`` holds normalised (x, y) points, most important first; moves toward a subject
    (push_in, pull_out, ken_burns, and the end of pans, tilts and cranes) frame them.
    Requests that cannot fit (too much zoom or travel for the image) are reduced and recorded
    as conflicts on the returned trajectory.
    """
    src_w, src_h = float(src_size[0]), float(src_size[1])
    aspect = out_size[0] / out_size[1]
    scale = min(1.0, max(0.0, motion_scale))
    conflicts: list[Conflict] = []
    way = resolve_direction(motion, direction, conflicts)
    cover = max_width(src_w, src_h, aspect)
    w_min = cover / MAX_ZOOM
    pts = [(x * src_w, y * src_h) for x, y in focus] or [(src_w / 2, src_h / 2)]
    fx, fy = pts[0]
    zoom_req = math.exp(ZOOM_RATE[speed] * scale * duration)
    travel = TRAVEL_RATE[speed] * scale * duration
    settings: dict[str, object] = {"motion": motion, "direction": way, "speed": speed,
                                   "easing": easing, "motion_scale": scale}

    def tight(zoom: float, what: str) -> float:
        """Crop width for ``zoom``, limited by MAX_ZOOM and the source's resolution."""
        width = cover / zoom
        if width < w_min - 1e-6:
            conflicts.append(Conflict(
                field="motion.speed", requested=round(zoom, 3), resolved=round(cover / w_min, 3),
                reason=f"{what} needs {zoom:.2f}x zoom; at most {MAX_ZOOM}x keeps the picture "
                       "sharp"))
            width = w_min
        return width

    def cam(cx: float, cy: float, width: float, angle: float = 0.0) -> Camera:
        return clamp(Camera(cx, cy, width, angle), src_w, src_h, aspect)

    def slide(axis: int, sign: float, extra_zoom: float = 1.0) -> tuple[Camera, Camera]:
        """Translate along x (axis 0) or y (axis 1) by ``travel`` views, ending near the focus."""
        span = (src_w, src_h)[axis]
        k = 1.0 if axis == 0 else 1.0 / aspect  # view size along the axis per crop width
        width = max(w_min, min(cover / extra_zoom, span / (k * (1.0 + travel))))
        view = width * k
        dist = min(travel * view, span - view)
        if dist < travel * view - 1e-6:
            conflicts.append(Conflict(
                field="motion.speed", requested=round(travel, 3), resolved=round(dist / view, 3),
                reason=f"{motion} travel of {travel:.2f} views does not fit the image; "
                       f"reduced to {dist / view:.2f}"))
        lo, hi = view / 2.0, span - view / 2.0
        target = (fx, fy)[axis]
        end = min(max(target, lo + dist), hi) if sign > 0 else min(max(target, lo), hi - dist)
        start = end - sign * dist
        other = (fy, fx)[axis]
        if axis == 0:
            return cam(start, other, width), cam(end, other, width)
        return cam(other, start, width), cam(other, end, width)

    if motion == "static":
        # An eased breath would come to rest at both ends and read as frozen frames; the hold
        # breathes at one even, barely visible pace instead.
        easing = "linear"
        breath = 1.0 + BREATHING_ZOOM * (1.0 + scale)
        # On a still taller than the frame, the hold frames the subject like a push-in's wide
        # end (focus on the upper third line) rather than a centre crop that may miss a face.
        wide_h = cover / aspect
        cy = fy + wide_h / 6 if focus and wide_h < src_h - 1e-6 else src_h / 2
        keys = [cam(src_w / 2, cy, cover), cam(src_w / 2, cy, cover / breath)]
    elif motion in ("push_in", "pull_out"):
        # The wide end is planned from the subject too: on a still taller than the frame it
        # puts the focus on the upper third line (headroom above a face, the body below)
        # instead of a centre crop that can cut a head at the eyes. Clamping keeps it inside.
        wide_h = cover / aspect
        wide = cam(src_w / 2, fy + wide_h / 6 if wide_h < src_h - 1e-6 else src_h / 2, cover)
        close = cam(fx, fy, tight(zoom_req, motion))
        keys = [wide, close] if motion == "push_in" else [close, wide]
    elif motion == "ken_burns":
        w0 = cover / KEN_BURNS_START_ZOOM
        w1 = tight(KEN_BURNS_START_ZOOM * zoom_req, motion)
        # Details one crop shows together (a face, its hair, an earring) are one stop: a tour
        # between points a few pixels apart turns the camera back and forth, a visible judder.
        stops: list[tuple[float, float]] = []
        for px, py in pts:
            if all(math.hypot(px - qx, py - qy) >= KEN_BURNS_MERGE * w1 for qx, qy in stops):
                stops.append((px, py))
        # Start on the far side of the main subject, call at the others, end on the main one:
        # the close-up a Ken Burns comes to is its subject (and a face whole at one end at
        # least, which the quality gate asks of every move over a portrait).
        stops = stops[1:] + stops[:1]
        keys = [cam(src_w - fx, src_h - fy, w0)]
        for i, (px, py) in enumerate(stops):
            keys.append(cam(px, py, w0 * (w1 / w0) ** ((i + 1) / len(stops))))
    elif motion == "pan":
        keys = list(slide(0, 1.0 if way == "left_to_right" else -1.0))
    elif motion == "truck":
        keys = list(slide(0, 1.0 if way == "right" else -1.0))
    elif motion == "tilt":
        keys = list(slide(1, -1.0 if way == "up" else 1.0))
    elif motion == "crane":
        lift = math.sqrt(zoom_req)
        a, b = slide(1, -1.0 if way == "up" else 1.0, extra_zoom=lift)
        # rising pulls back a little (starts tighter), descending pushes in a little; never
        # past MAX_ZOOM (the slide may already be tight to fit its travel)
        tight_end = a if way == "up" else b
        narrow = tight_end.width / lift
        if narrow < w_min - 1e-6:
            conflicts.append(Conflict(
                field="motion.speed", requested=round(cover / narrow, 3), resolved=MAX_ZOOM,
                reason=f"crane needs {cover / narrow:.2f}x zoom; at most {MAX_ZOOM}x keeps the "
                       "picture sharp"))
        tight_end = replace(tight_end, width=max(w_min, narrow))
        keys = [tight_end, b] if way == "up" else [a, tight_end]
    elif motion == "orbit":
        roll = ROLL_DEG[speed] * scale * (1.0 if way == "clockwise" else -1.0)
        width = tight(max(1.12, 1.0 + travel), motion)
        width = min(width, max_width(src_w, src_h, aspect, roll) / (1.0 + travel / 2))
        dist = min(travel * width, src_w - width)
        sag = 0.25 * dist / aspect
        sign = 1.0 if way == "clockwise" else -1.0
        keys = []
        for k in range(5):
            t = k / 4
            keys.append(cam(fx + sign * dist * (t - 0.5), fy + sag * math.sin(math.pi * t),
                            width, roll * (2 * t - 1)))
    else:  # pragma: no cover - MotionType is closed
        raise ValueError(f"motion.type: unknown motion {motion!r}")

    traj = Trajectory(keyframes=keys, src_size=(int(src_w), int(src_h)), aspect=aspect,
                      easing=easing, conflicts=conflicts, settings=settings)
    first, last = keys[0], keys[-1]
    settings["zoom"] = round(float(first.width / last.width), 4)
    settings["max_upscale"] = round(out_size[0] / min(k.width for k in keys), 3)
    settings["travel_px"] = [round(float(last.cx - first.cx), 2),
                             round(float(last.cy - first.cy), 2)]
    return traj
