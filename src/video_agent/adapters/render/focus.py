"""Focus points found in the still itself: faces, a saliency map, the horizon, rule of thirds.

The plan names focus elements in free words ("face", "hair", "menu_book", "horizon"); each is
looked for with the detector that suits it, and when nothing convincing is found the point falls
back to a rule-of-thirds intersection.  Every point records how it was found.  A face has its
box; so does a named subject found by saliency (``subject_box``: the region of the saliency map
around its peak), which the renderer keeps whole at both ends of a move and the quality gate
judges.  Horizon and thirds points have none: a line, or a guess.

Thread safety: safe to call from any number of threads at once.  The face search borrows its
Haar classifiers from ``video_agent.cascades`` (a classifier is never used by two threads at
once); the saliency map is computed with plain array functions (no OpenCV saliency object with
state); nothing else is kept between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import cv2
import numpy as np

from video_agent.cascades import FRONTAL_FACE, PROFILE_FACE, borrowed

Method = Literal["face", "saliency", "horizon", "thirds"]

FACE_WORDS = frozenset({
    "face", "faces", "eye", "eyes", "expression", "smile", "portrait", "head", "hair",
    "person", "character", "people", "gaze", "look", "subject",
    # people a scene names by role
    "man", "woman", "girl", "boy", "child", "kid", "barista", "waiter", "waitress", "chef",
    "actor", "actress", "hero", "heroine", "speaker", "narrator", "friend", "friends",
    "stranger", "astronaut", "driver", "pilot", "protagonist",
})
HORIZON_WORDS = frozenset({"horizon", "skyline", "sunset", "sunrise", "sea", "ocean"})
ANALYSIS_SIDE = 480
"""Detectors run on a copy whose longest side is at most this many pixels."""
SALIENCY_MIN_CONTRAST = 2.2
"""A saliency peak counts only when it stands this many times above the map's mean."""
THIRDS = ((1 / 3, 1 / 3), (2 / 3, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 2 / 3))
BOX_LEVEL = 0.3
"""A named subject's box is the region around its saliency peak above this share of the peak."""
MAX_BOX_SIDE = 0.35
"""A subject box spans at most this share of the still's width and of its height."""


@dataclass(frozen=True)
class FocusPoint:
    """A point of interest in normalised image coordinates (0-1, origin top left)."""

    name: str
    x: float
    y: float
    method: Method
    score: float = 0.0
    box: tuple[float, float, float, float] | None = None
    """(x, y, w, h), normalised, for detections that have an extent: faces, and named
    subjects found by saliency."""

    @property
    def subject(self) -> tuple[float, float, float, float] | None:
        """The box as ``(x0, y0, x1, y1)`` of a named subject that is not a face, or None."""
        if self.box is None or self.method != "saliency":
            return None
        x, y, w, h = self.box
        return x, y, x + w, y + h

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values (rounded)."""
        data = asdict(self)
        data["x"], data["y"] = round(float(self.x), 4), round(float(self.y), 4)
        data["score"] = round(float(self.score), 3)
        if self.box is not None:
            data["box"] = [round(float(v), 4) for v in self.box]
        return data


def _words(name: str) -> set[str]:
    return set(name.lower().replace("-", "_").replace(" ", "_").split("_"))


def is_face_name(name: str) -> bool:
    return bool(_words(name) & FACE_WORDS)


def is_horizon_name(name: str) -> bool:
    return bool(_words(name) & HORIZON_WORDS)


def is_subject_name(name: str) -> bool:
    """A named thing (not a face, person or horizon) whose saliency region gets a box."""
    return bool(name.strip()) and not is_face_name(name) and not is_horizon_name(name)


def subject_box(sal: np.ndarray, ix: int, iy: int) -> tuple[float, float, float, float]:
    """Normalised ``(x, y, w, h)`` of the connected region of ``sal`` above ``BOX_LEVEL`` of
    its value at the peak ``(ix, iy)``, shrunk about the peak to ``MAX_BOX_SIDE`` a side."""
    h, w = sal.shape
    mask = (sal >= BOX_LEVEL * float(sal[iy, ix])).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x0, y0, bw, bh = (int(v) for v in stats[int(labels[iy, ix]), :4])
    out = []
    for lo, size, peak, side in ((x0, bw, ix, w), (y0, bh, iy, h)):
        limit = MAX_BOX_SIDE * side
        if size > limit:  # keep the peak inside, the box within the still
            lo = int(min(max(peak + 0.5 - limit / 2, 0.0), side - limit))
            size = int(limit)
        out += [lo / side, size / side]
    return out[0], out[2], out[1], out[3]


def _analysis_gray(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Greyscale copy no larger than ANALYSIS_SIDE, and the factor it was scaled by."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    factor = min(1.0, ANALYSIS_SIDE / max(gray.shape[:2]))
    if factor < 1.0:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return gray, factor


def detect_faces(gray: np.ndarray, *, profiles: bool = True,
                 ) -> list[tuple[float, float, float, float]]:
    """Face boxes (x, y, w, h) normalised to the image, largest first.

    Uses OpenCV's bundled Haar cascades: frontal faces first, then (if ``profiles``) faces in
    profile when none is frontal.
    """
    h, w = gray.shape[:2]
    eq = cv2.equalizeHist(gray)
    min_side = max(20, int(0.06 * min(h, w)))
    boxes: list[tuple[int, int, int, int]] = []
    cascades = [FRONTAL_FACE, PROFILE_FACE] if profiles else [FRONTAL_FACE]
    for file in cascades:
        with borrowed(file) as cascade:
            found = cascade.detectMultiScale(
                eq, scaleFactor=1.15, minNeighbors=4, minSize=(min_side, min_side))
        boxes = [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
        if boxes:
            break
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return [(x / w, y / h, bw / w, bh / h) for x, y, bw, bh in boxes]


def saliency_map(gray: np.ndarray) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang 2007) at 64 px, resized to ``gray``'s shape.

    The small image is mirror-padded before the FFT so the frame's edges do not light up.
    """
    small = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    pad = 16
    padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    spectrum = np.fft.fft2(padded)
    log_amp = np.log(np.abs(spectrum) + 1e-6).astype(np.float32)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    recon = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
    sal = cv2.GaussianBlur((np.abs(recon) ** 2).astype(np.float32), (0, 0), 2.5)
    sal = sal[pad:-pad, pad:-pad].copy()
    # a mild centre prior: the very border of the frame is rarely the subject
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32) / 63.0 - 0.5
    sal *= np.exp(-(xx**2 + yy**2) / (2 * 0.4**2))
    sal[:3], sal[-3:], sal[:, :3], sal[:, -3:] = 0, 0, 0, 0
    return cv2.resize(sal, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)


def _horizon_row(gray: np.ndarray) -> tuple[float, float]:
    """Normalised y of the strongest long horizontal edge, and its strength over the mean."""
    blurred = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 2.0)
    rows = np.abs(cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)).mean(axis=1)
    margin = max(2, len(rows) // 20)
    rows = rows[margin:-margin]
    idx = int(np.argmax(rows))
    return (idx + margin + 0.5) / gray.shape[0], float(rows[idx] / (rows.mean() + 1e-6))


def _thirds(sal: np.ndarray, taken: Sequence[FocusPoint], name: str) -> FocusPoint:
    """The thirds intersection nearest the saliency mass, not already used."""
    h, w = sal.shape
    total = float(sal.sum()) or 1.0
    yy, xx = np.mgrid[0:h, 0:w]
    mx, my = float((sal * xx).sum() / total / w), float((sal * yy).sum() / total / h)
    used = {(round(p.x, 3), round(p.y, 3)) for p in taken}
    ranked = sorted(THIRDS, key=lambda p: (p[0] - mx) ** 2 + (p[1] - my) ** 2)
    free = [p for p in ranked if (round(p[0], 3), round(p[1], 3)) not in used] or ranked
    return FocusPoint(name=name, x=free[0][0], y=free[0][1], method="thirds")


def find_focus_points(image: np.ndarray, names: Sequence[str] = ()) -> list[FocusPoint]:
    """Locate each named focus element (or, with no names, the image's main subject).

    ``image`` is RGB or greyscale.  Face-like names use the face detector, horizon-like names
    the horizon finder, other names (and those two when they find nothing) successive saliency
    peaks; anything still not found falls back to a rule-of-thirds intersection.  Returns one
    point per name (one point when none is given).
    """
    gray, _ = _analysis_gray(image)
    h, w = gray.shape
    wanted = [n for n in names if n and n.strip()] or ["subject"]
    faces: list[tuple[float, float, float, float]] | None = None
    sal = saliency_map(gray)
    sal_mean = float(sal.mean()) + 1e-12
    suppressed = sal.copy()
    points: list[FocusPoint] = []
    for name in wanted:
        point: FocusPoint | None = None
        if is_face_name(name):
            if faces is None:  # profiles too when the plan asked for a face by name
                faces = detect_faces(gray, profiles=bool(names))
            if faces:
                fx, fy, fw, fh = faces[0]
                lift = 0.2 if "hair" in _words(name) else 0.0  # hair sits above the face
                point = FocusPoint(name=name, x=fx + fw / 2, y=max(0.0, fy + fh * (0.45 - lift)),
                                   method="face", score=fw * fh, box=faces[0])
        elif is_horizon_name(name):
            y, strength = _horizon_row(gray)
            if strength > 2.0:
                point = FocusPoint(name=name, x=0.5, y=y, method="horizon", score=strength)
        if point is None:  # no face / horizon found either: the most salient free spot
            iy, ix = np.unravel_index(int(np.argmax(suppressed)), suppressed.shape)
            contrast = float(suppressed[iy, ix]) / sal_mean
            if contrast >= SALIENCY_MIN_CONTRAST:
                box = subject_box(sal, int(ix), int(iy)) if is_subject_name(name) else None
                point = FocusPoint(name=name, x=(ix + 0.5) / w, y=(iy + 0.5) / h,
                                   method="saliency", score=contrast, box=box)
                radius = int(0.15 * max(h, w))
                cv2.circle(suppressed, (int(ix), int(iy)), radius, 0.0, thickness=-1)
        if point is None:
            point = _thirds(sal, points, name)
        points.append(point)
    return points
