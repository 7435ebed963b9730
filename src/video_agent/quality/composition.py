"""Composition over the whole move: are the still's faces whole in frame from start to end?

Faces are found once on the still. A candidate of OpenCV's frontal cascade counts only when a
second, differently trained cascade finds it too and eyes are found inside it (two eyes for a
small face), so textures such as the moon's craters are not taken for faces. Each sampled
frame's window on the still (``windows.WindowTrack``) gives the share of every face, with its
headroom, that the frame shows.

A face counts as cut in a frame when it is partly in frame (more than ``PRESENT`` of it) but
less than ``min_face_coverage``; a frame where no face is even partly in frame has lost the
subject (coverage 0). The worst sampled frame is reported with its time.

The plan's named subjects (a "lighthouse", a "menu_book": focus points that are not faces,
people or the horizon) are found on the still as the renderer finds them (the saliency box of
``focus.find_focus_points``) and judged on the same sampled frames: one cut by the frame edge
on the first or last frame (``NAMED_PRESENT`` to ``min_face_coverage`` of its box in frame)
is flagged (failed with ``fail_on_composition``: a saliency box is rougher than a face), and a
move that loses them fails (no named subject
or face whole at either end, and a named subject whole in fewer than half of the sampled
frames). A scene naming no such subject, or whose
subjects saliency does not find (a thirds guess has no box), is judged on its faces alone.

Thread safety: the cascades are borrowed per call (``video_agent.cascades``); safe from many
threads at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from video_agent.cascades import CONFIRM_FACE, EYES, FRONTAL_FACE, borrowed
from video_agent.models import QualityCheck
from video_agent.quality.memo import Memo, digest
from video_agent.quality.settings import QualitySettings
from video_agent.quality.windows import Box, WindowTrack

DETECT_SIDE = 800
"""Faces are searched on a copy of the still whose longest side is at most this."""
MIN_FACE_PX = 24
"""Smallest face searched, pixels at the search scale (the cascade's own window)."""
SMALL_FACE_PX = 40
"""A face narrower than this at the search scale is small: it needs two eyes to count, and a
cut of it is flagged, not failed."""
SMALL_IN_FRAME = 0.12
"""A face shorter than this share of the frame's height is small in the frame (flag only)."""
PRESENT = 0.05
"""A face with less than this share in frame is out of frame, not cut."""
NAMED_PRESENT = 0.3
"""A named subject with less than this share of its box in frame is leaving it (or out), not
cut: its box is a rough saliency region, and a move may leave it (a tilt up from a rocket)."""
_CHECK_SIDE = 96
"""Each candidate is looked at again at this face width, from the full-size still."""


@dataclass(frozen=True)
class Face:
    """A face on the still: its box as fractions ``(x0, y0, x1, y1)`` and whether it is small."""

    box: Box
    small: bool

    def head(self, headroom: float) -> Box:
        """The face with ``headroom`` face heights above it (clipped to the still)."""
        x0, y0, x1, y1 = self.box
        return x0, max(0.0, y0 - headroom * (y1 - y0)), x1, y1


def _confirmed(gray: np.ndarray, x: float, y: float, w: float, small: bool) -> bool:
    """Does the second cascade see a face at (x, y, w) of ``gray``, with eyes in it?"""
    h_img, w_img = gray.shape
    pad = 0.3 * w
    x0, y0 = int(max(0.0, x - pad)), int(max(0.0, y - pad))
    x1, y1 = int(min(w_img, x + w + pad)), int(min(h_img, y + w + pad))
    k = _CHECK_SIDE / w
    roi = cv2.resize(gray[y0:y1, x0:x1], None, fx=k, fy=k,
                     interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)
    roi = cv2.equalizeHist(roi)
    side = int(0.7 * _CHECK_SIDE)
    with borrowed(CONFIRM_FACE) as cascade:
        again = cascade.detectMultiScale(roi, scaleFactor=1.05, minNeighbors=3,
                                         minSize=(side, side))
    if len(again) == 0:
        return False
    fx, fy = int((x - x0) * k), int((y - y0) * k)
    upper = roi[fy:fy + int(0.62 * _CHECK_SIDE), fx:fx + _CHECK_SIDE]
    with borrowed(EYES) as cascade:
        eyes = cascade.detectMultiScale(upper, scaleFactor=1.05, minNeighbors=3,
                                        minSize=(12, 12), maxSize=(40, 40))
    return len(eyes) >= (2 if small else 1)


_FACES: Memo[tuple[Face, ...]] = Memo()
_NAMED: Memo[tuple[Named, ...]] = Memo()


def forget() -> None:
    """Forget the faces and named subjects found so far (``memo``): the next search is cold."""
    _FACES.clear()
    _NAMED.clear()


def find_faces(gray: np.ndarray) -> list[Face]:
    """Confirmed frontal faces of a gray still, largest first.

    Searched on a copy at most ``DETECT_SIDE`` long; the smallest face seen is about
    ``MIN_FACE_PX`` pixels wide there (about 3% of the still's longest side). Searched once per
    still and process (``memo``).
    """
    return list(_FACES.get(digest(gray), lambda: tuple(_search_faces(gray))))


def _search_faces(gray: np.ndarray) -> list[Face]:
    h, w = gray.shape[:2]
    k = min(1.0, DETECT_SIDE / max(h, w))
    small = gray if k >= 1.0 else cv2.resize(gray, None, fx=k, fy=k,
                                              interpolation=cv2.INTER_AREA)
    with borrowed(FRONTAL_FACE) as cascade:
        found = cascade.detectMultiScale(cv2.equalizeHist(small), scaleFactor=1.15,
                                         minNeighbors=4, minSize=(MIN_FACE_PX, MIN_FACE_PX))
    faces = []
    for bx, by, bw, bh in (tuple(int(v) for v in b) for b in found):
        tiny = bw < SMALL_FACE_PX
        if _confirmed(gray, bx / k, by / k, bw / k, tiny):
            faces.append(Face(box=(bx / small.shape[1], by / small.shape[0],
                                   (bx + bw) / small.shape[1], (by + bh) / small.shape[0]),
                              small=tiny))
    faces.sort(key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), reverse=True)
    return faces


def coverage(box: Box, window: Box) -> float:
    """Share of ``box`` inside ``window`` (both ``(x0, y0, x1, y1)``)."""
    w = max(0.0, min(box[2], window[2]) - max(box[0], window[0]))
    h = max(0.0, min(box[3], window[3]) - max(box[1], window[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return w * h / area if area > 0 else 1.0


@dataclass(frozen=True)
class FrameComposition:
    """How one sampled frame shows the still's faces."""

    index: int
    cut: float
    """Coverage of the worst-cut face partly in frame (1 when every face is whole or out)."""
    cut_face: int
    """Index (in the faces, largest first) of that face."""
    best: float
    """Coverage of the best-shown face: below the threshold, the subject is lost."""
    best_face: int
    small: tuple[bool, ...]
    """Per face: small on the still or in this frame."""


def frame_composition(index: int, window: Box, faces: list[Face], headroom: float
                      ) -> FrameComposition:
    """The worst-cut and the best-shown face of one frame."""
    shares = [coverage(f.head(headroom), window) for f in faces]
    present = [k for k, c in enumerate(shares) if c > PRESENT] or [0]
    height = max(1e-6, window[3] - window[1])
    small = tuple(f.small or (f.box[3] - f.box[1]) / height < SMALL_IN_FRAME for f in faces)
    cut = min(present, key=shares.__getitem__)
    best = max(range(len(faces)), key=shares.__getitem__)
    return FrameComposition(index, shares[cut] if shares[cut] > PRESENT else 1.0, cut,
                            shares[best], best, small)


def composition_checks(track: WindowTrack, times: np.ndarray, faces: list[Face],
                       s: QualitySettings, out: dict[str, float]) -> list[QualityCheck]:
    """The composition check of a clip whose still has ``faces``.

    On the first and last frames every face must be whole or out of frame: a face that is
    not small and is cut there fails the clip, and so does a clip whose first and last frames
    both show no face whole. Mid-move, faces may cross the frame edge, but some face must stay
    whole: a frame where none is has lost the subject. A subject lost at one end or mid-move
    and a cut small face are flagged, or failed with ``fail_on_composition``.
    """
    n = len(times)
    least = s.min_face_coverage
    found = [frame_composition(i, f.window, faces, s.composition_headroom)
             for i, f in track.samples().items()]
    # (score, frame, face, cut at an end?) per sampled frame: ends judge cuts, all judge loss
    scored: list[tuple[float, FrameComposition, int, bool]] = []
    for c in found:
        if c.index in (0, n - 1) and c.cut < least:
            scored.append((c.cut, c, c.cut_face, True))
        else:
            scored.append((c.best, c, c.best_face, False))
    score, frame, face, cut = min(scored, key=lambda v: (v[0], not v[3]))
    hard = [v for v in scored if v[3] and v[0] < least and not v[1].small[v[2]]]
    ends = [v for v in scored if v[1].index in (0, n - 1)]
    never = all(v[1].best < least and not v[1].small[v[1].best_face] for v in ends)
    if never and not hard:  # neither end shows any face whole: the clip misses its subject
        hard = [min(ends, key=lambda v: v[1].best)]
    if hard:
        score, frame, face, cut = min(hard, key=lambda v: v[0])
    out["main_face_coverage"] = round(score, 4)
    out["face_coverage_at_s"] = round(float(times[frame.index]), 3)
    if score >= least:
        return [QualityCheck(name="main_face_coverage", property="composition",
                             value=round(score, 4), threshold=least,
                             expected=f">= {least:g} of the face in frame")]
    status: Literal["failed", "flagged"] = "failed" if hard or s.fail_on_composition else "flagged"
    where = {0: "first frame", n - 1: "last frame"}.get(frame.index, "frame")
    at = f"on the {where} at {times[frame.index]:.1f} s"
    who = "the main face" if face == 0 else f"face {face + 1} of {len(faces)}"
    if cut:
        finding = (f"{who} with its headroom is {score:.0%} in frame {at} (at least "
                   f"{least:.0%}): the head is cut by the frame edge")
    else:
        others = " and no other face is whole" if len(faces) > 1 else ""
        finding = (f"{who} with its headroom is {score:.0%} in frame {at} (at least "
                   f"{least:.0%}){others}: the subject is lost")
    if status == "flagged":
        finding += (" (a small face: flagged, not failed)" if cut
                    else " (flagged, not failed)")
    return [QualityCheck(
        name="main_face_coverage", property="composition", value=round(score, 4),
        threshold=least, expected=f">= {least:g} of the face in frame", status=status,
        action="rejected" if status == "failed" else "recorded",
        reason=f"composition: {finding}")]


@dataclass(frozen=True)
class Named:
    """A subject the plan names, found on the still: its word and box ``(x0, y0, x1, y1)``."""

    name: str
    box: Box


def names_a_subject(names: Sequence[str]) -> bool:
    """Is any of the plan's focus words a subject (not a face, a person or the horizon)?"""
    from video_agent.adapters.render.focus import is_subject_name

    return any(is_subject_name(n) for n in names)


def find_named(gray: np.ndarray, names: Sequence[str]) -> list[Named]:
    """The boxes of the plan's named subjects that saliency finds on the still.

    Searched with the renderer's own ``focus.find_focus_points`` (imported here, so importing
    the gate does not load the renderer), with the names in the plan's order, so each subject
    gets the saliency peak the renderer gave it; none when no name is a subject word.
    """
    if not names_a_subject(names):
        return []
    return list(_NAMED.get((digest(gray), tuple(names)),
                           lambda: tuple(_search_named(gray, names))))


def _search_named(gray: np.ndarray, names: Sequence[str]) -> list[Named]:
    from video_agent.adapters.render.focus import find_focus_points, is_subject_name

    # names are placed in order: those after the last subject word change nothing here, and
    # leaving them out spares a face search when the face words come last
    last = max(k for k, n in enumerate(names) if is_subject_name(n))
    return [Named(p.name, box) for p in find_focus_points(gray, list(names[:last + 1]))
            if (box := p.subject) is not None]


def _worst(shares: list[dict[int, float]], ends: list[int]) -> tuple[float, int, int]:
    """(share, subject, frame): the worst end share of a subject in frame there (at least
    ``NAMED_PRESENT`` of it; 1 when every subject is whole or out at both ends)."""
    at_ends = [(sh[i], k, i) for k, sh in enumerate(shares) for i in ends
               if sh[i] >= NAMED_PRESENT]
    return min(at_ends) if at_ends else (1.0, 0, ends[0])


def named_checks(track: WindowTrack, times: np.ndarray, named: list[Named], faces: list[Face],
                 s: QualitySettings, out: dict[str, float]) -> list[QualityCheck]:
    """The composition check of the plan's named subjects (see the module's note).

    Each named subject mostly in frame (``NAMED_PRESENT``) on the first or last frame should be
    whole there (``min_face_coverage``): one that is not is flagged, or fails with
    ``fail_on_composition``. The move has lost its subjects, and fails, when neither end
    shows a named subject or a face whole and fewer than half of the sampled frames show a
    named subject whole.
    """
    n, least = len(times), s.min_face_coverage
    windows = {i: f.window for i, f in track.samples().items()}
    ends = [i for i in (0, n - 1) if i in windows]
    shares = [{i: coverage(v.box, w) for i, w in windows.items()} for v in named]
    whole = [i for i in windows if max(sh[i] for sh in shares) >= least]
    face_at_end = any(coverage(f.head(s.composition_headroom), windows[i]) >= least
                      for f in faces for i in ends)
    lost = not face_at_end and not set(whole) & set(ends) and 2 * len(whole) < len(windows)
    score, k, frame = _worst(shares, ends)
    cut = score < least
    if lost and not cut:
        score, k, frame = max((sh[i], j, i) for j, sh in enumerate(shares) for i in sh)
    out["named_subject_coverage"] = round(score, 4)
    out["named_subject_coverage_at_s"] = round(float(times[frame]), 3)
    expected = f">= {least:g} of each named subject in frame"
    if not cut and not lost:
        return [QualityCheck(name="named_subject_coverage", property="composition",
                             value=round(score, 4), threshold=least, expected=expected)]
    word = f"'{named[k].name}'"
    if cut:
        first = frame == 0
        finding = (f"{word} cut by the frame edge at the {'start' if first else 'end'}: "
                   f"{score:.0%} of it in frame on the {'first' if first else 'last'} frame "
                   f"at {times[frame]:.1f} s (at least {least:.0%})")
    else:
        finding = (f"{word} lost for most of the move: no named subject is whole at either "
                   f"end, and one is whole in only {len(whole)} of {len(windows)} sampled frames "
                   f"(at most {score:.0%} of {word} in frame, at least {least:.0%})")
    # A named subject's box is a saliency region, rougher than a face: one cut at an end is
    # flagged (failed with fail_on_composition); a move that loses every subject fails.
    failed = (lost and not cut) or s.fail_on_composition
    status: Literal["failed", "flagged"] = "failed" if failed else "flagged"
    if status == "flagged":
        finding += " (a saliency box, rougher than a face: flagged, not failed)"
    return [QualityCheck(
        name="named_subject_coverage", property="composition", value=round(score, 4),
        threshold=least, expected=expected, status=status,
        action="rejected" if status == "failed" else "recorded",
        reason=f"composition: {finding}")]
