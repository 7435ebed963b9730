"""Metrics measured on decoded analysis frames: fidelity, motion, flicker, freezes, cuts, drift.

Every function takes plain numpy arrays so it can be checked on synthetic frames.
Pixel distances are expressed in pixels of a 1024-wide frame whatever the analysis size.

Thread safety: only stateless OpenCV functions are used (no detector or tracker objects), so
every function can run in many threads at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from video_agent.quality import tracking

# ----------------------------------------------------------------------------- fidelity


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two gray images (Gaussian window, sigma 1.5)."""
    x = a.astype(np.float32)
    y = b.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * cxy + c2)
    den = (mx * mx + my * my + c1) * (vx + vy + c2)
    return float(np.mean(num / den))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (capped at 100 for identical images)."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 100.0 if mse <= 1e-10 else float(10 * np.log10(255.0**2 / mse))


def content_box(gray: np.ndarray, black: float = 20.0) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the picture inside letterbox or pillarbox bars."""
    h, w = gray.shape
    rows = gray.mean(axis=1) >= black
    cols = gray.mean(axis=0) >= black
    if not rows.any() or not cols.any():
        return 0, 0, w, h
    y0, y1 = int(np.argmax(rows)), int(h - np.argmax(rows[::-1]))
    x0, x1 = int(np.argmax(cols)), int(w - np.argmax(cols[::-1]))
    # Bars are only bars when they are thin strips on opposite sides; otherwise keep the frame.
    if (y1 - y0) < h * 0.5 or (x1 - x0) < w * 0.5:
        return 0, 0, w, h
    return x0, y0, x1, y1


@dataclass
class Fidelity:
    ssim: float
    psnr: float
    zoom: float
    offset_x: float
    offset_y: float
    window: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    """The matched window as fractions ``(x0, y0, x1, y1)`` of the source still."""
    content: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    """The frame's picture inside any bars, as fractions ``(x0, y0, x1, y1)`` of the frame."""


_Match = tuple[float, int, int, float, float]

NEAR_PX = 8
"""A full-size pass looks this far (pixels of its scaled still) around where the window's centre
was found before: the score at a place depends only on the pixels under the frame there, so
within that reach it is the full search's score."""


def _match(source: np.ndarray, content: np.ndarray, zoom: float,
           near: tuple[float, float] | None = None) -> _Match:
    """Best placement of ``content`` in ``source`` seen at ``zoom``: (score, x, y, factor, zoom);
    anywhere, or within ``NEAR_PX`` of a window centred at ``near`` (pixels of ``source``)."""
    sh, sw = source.shape
    ch, cw = content.shape
    aspect = cw / ch
    win_w = min(sw, sh * aspect) / zoom
    factor = cw / win_w
    rw, rh = max(cw, round(sw * factor)), max(ch, round(sh * factor))
    resized = cv2.resize(source, (rw, rh), interpolation=cv2.INTER_AREA)
    x0 = y0 = 0
    if near is not None:
        x0 = min(max(round(near[0] * factor - cw / 2) - NEAR_PX, 0), rw - cw)
        y0 = min(max(round(near[1] * factor - ch / 2) - NEAR_PX, 0), rh - ch)
        resized = resized[y0:y0 + ch + 2 * NEAR_PX, x0:x0 + cw + 2 * NEAR_PX]
    result = cv2.matchTemplate(resized, content, cv2.TM_CCOEFF_NORMED)
    _, score, _, (x, y) = cv2.minMaxLoc(result)
    return float(score), x + x0, y + y0, factor, float(zoom)


def _centre(match: _Match, content: np.ndarray, source: np.ndarray, scaled: np.ndarray
            ) -> tuple[float, float]:
    """Centre of a match's window in pixels of ``source``, the match made on ``scaled`` (the
    same still at another size) with ``content`` (the frame at that size)."""
    _, x, y, factor, _ = match
    return ((x + content.shape[1] / 2) / factor * source.shape[1] / scaled.shape[1],
            (y + content.shape[0] / 2) / factor * source.shape[0] / scaled.shape[0])


MATCH_MAX_ZOOM = 2.0
"""Deepest zoom into the still a frame's window is searched at: as far as the embedded renderer
goes (its ``MAX_ZOOM``), so a long fast orbit or a pull-out that starts close is matched."""
MATCH_STEP = 0.1
"""Zoom step of the coarse window search (on half-size copies, anywhere); three passes around
the best, each four times finer, follow at full size near it (``NEAR_PX``)."""


def fidelity(first: np.ndarray, source: np.ndarray,
             max_zoom: float = MATCH_MAX_ZOOM) -> Fidelity:
    """Compare a clip's first gray frame with the gray source still.

    The still is searched for the window the first frame shows (any zoom from the widest crop
    of the frame's aspect up to ``max_zoom``, any position), so a push-in that starts wide, a pan
    that starts on one side and a letterboxed provider frame all compare like with like.
    """
    x0, y0, x1, y1 = content_box(first)
    content = np.ascontiguousarray(first[y0:y1, x0:x1])
    if min(content.shape) < 8 or min(source.shape) < 8:
        return Fidelity(0.0, 0.0, 1.0, 0.0, 0.0)
    # Work on a copy of the still whose widest window is about twice the frame's width.
    aspect = content.shape[1] / content.shape[0]
    widest = min(source.shape[1], source.shape[0] * aspect)
    if widest > 2 * content.shape[1]:
        ratio = 2 * content.shape[1] / widest
        source = cv2.resize(source, (max(8, round(source.shape[1] * ratio)),
                                     max(8, round(source.shape[0] * ratio))),
                            interpolation=cv2.INTER_AREA)
    # What looks like a bar may be a dark edge of the picture itself (a coat, the night sky):
    # the window of such a narrower "content" sits deeper in the still, so search that far too.
    share = min((x1 - x0) / first.shape[1], (y1 - y0) / first.shape[0])
    zooms = list(np.arange(1.0, max_zoom / share + 1e-6, MATCH_STEP))
    # The coarse search runs on half-size copies (a quarter of the pixels), the finer passes at
    # full size near the window found; on the five sampled frames of 88 clips of the renderer's
    # moves over 11 stills (440 frames) both give the windows a full search at full size gives.
    half_content, half_source = (
        cv2.resize(image, (max(8, image.shape[1] // 2), max(8, image.shape[0] // 2)),
                   interpolation=cv2.INTER_AREA) for image in (content, source))
    coarse = max((_match(half_source, half_content, z) for z in zooms), key=lambda m: m[0])
    best = _match(source, content, coarse[4],
                  near=_centre(coarse, half_content, source, half_source))
    step = MATCH_STEP
    for _ in range(3):
        step /= 4
        zoom, near = best[4], _centre(best, content, source, source)
        candidates = [zoom + k * step for k in (-3, -2, -1, 1, 2, 3)]
        best = max([best, *(_match(source, content, z, near) for z in candidates if z >= 1.0)],
                   key=lambda m: m[0])
    _, x, y, factor, zoom = best
    sh, sw = source.shape
    resized = cv2.resize(source, (max(content.shape[1], round(sw * factor)),
                                  max(content.shape[0], round(sh * factor))),
                         interpolation=cv2.INTER_AREA)
    window = refine(resized[y:y + content.shape[0], x:x + content.shape[1]], content)
    rh, rw = resized.shape
    fh, fw = first.shape
    return Fidelity(
        ssim=ssim(content, window), psnr=psnr(content, window), zoom=float(zoom),
        offset_x=x / factor, offset_y=y / factor,
        window=(x / rw, y / rh, min(1.0, (x + content.shape[1]) / rw),
                min(1.0, (y + content.shape[0]) / rh)),
        content=(x0 / fw, y0 / fh, x1 / fw, y1 / fh),
    )


def crop_fraction(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The part of ``image`` inside ``box`` (fractions ``x0, y0, x1, y1``), at least 1x1 pixel."""
    h, w = image.shape[:2]
    x0, y0 = min(int(box[0] * w), w - 1), min(int(box[1] * h), h - 1)
    x1, y1 = max(x0 + 1, round(box[2] * w)), max(y0 + 1, round(box[3] * h))
    return image[y0:y1, x0:x1]


# ----------------------------------------------------------------------------- colour


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (L 0-100) of an 8-bit RGB image, D65, float32."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> npt.NDArray[np.float64]:
    """CIEDE2000 colour difference of two arrays of L*a*b* triples (last axis), per element."""
    L1, a1, b1 = (lab1[..., k].astype(np.float64) for k in range(3))
    L2, a2, b2 = (lab2[..., k].astype(np.float64) for k in range(3))
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl = L2 - L1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar = (L1 + L2) / 2
    cp_bar = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180,
                     np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2), h_sum / 2)
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    sl = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    sc = 1 + 0.045 * cp_bar
    sh = 1 + 0.015 * cp_bar * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    delta: npt.NDArray[np.float64] = np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dH / sh) ** 2
                                             + rt * (dc / sc) * (dH / sh))
    return delta


@dataclass
class ColourFidelity:
    delta_e: float
    """Mean CIEDE2000 difference between the frame and the matched window of the still."""
    cast: float
    """Length of the shift of mean a*b* (a colour cast), in Lab units."""
    channel_order: float
    """Mean correlation of each RGB channel with the same channel of the still minus the best
    correlation with another channel; below 0 when channels are swapped."""
    tone_spread: float
    """Ratio of the frame's L* spread (2nd to 98th percentile) to the still's: below 1 when
    the range was squeezed (full range shown as limited), above 1 when stretched."""


def colour_fidelity(frame_rgb: np.ndarray, source_rgb: np.ndarray) -> ColourFidelity:
    """Compare a frame's colours with the still's window it shows (both RGB, any sizes).

    Both are brought to the frame's size and lightly blurred, so resampling and compression
    noise count little and only colour that differs over areas counts.
    """
    h, w = frame_rgb.shape[:2]
    window = cv2.resize(source_rgb, (w, h), interpolation=cv2.INTER_AREA)
    a = cv2.GaussianBlur(frame_rgb, (3, 3), 0)
    b = cv2.GaussianBlur(window, (3, 3), 0)
    lab_a, lab_b = lab(a), lab(b)
    delta_e = float(np.mean(ciede2000(lab_a, lab_b)))
    cast = float(np.linalg.norm(lab_a[..., 1:].reshape(-1, 2).mean(0)
                                - lab_b[..., 1:].reshape(-1, 2).mean(0)))
    fa = a.reshape(-1, 3).astype(np.float64)
    fb = b.reshape(-1, 3).astype(np.float64)
    fa -= fa.mean(0)
    fb -= fb.mean(0)
    na, nb = np.linalg.norm(fa, axis=0), np.linalg.norm(fb, axis=0)
    corr = (fa.T @ fb) / np.maximum(np.outer(na, nb), 1e-6)
    textured = (na > 1e-3 * len(fa)) & (nb > 1e-3 * len(fb))
    order = []
    for k in np.flatnonzero(textured):
        others = [corr[k, j] for j in range(3) if j != k and textured[j]]
        if others:
            order.append(corr[k, k] - max(others))
    spread_a = np.subtract(*np.percentile(lab_a[..., 0], [98, 2]))
    spread_b = np.subtract(*np.percentile(lab_b[..., 0], [98, 2]))
    return ColourFidelity(delta_e=delta_e, cast=cast,
                          channel_order=float(np.mean(order)) if order else 0.0,
                          tone_spread=float(spread_a / spread_b) if spread_b > 2.0 else 1.0)


def window_luma_range(source_gray: np.ndarray, fraction: tuple[float, float]
                      ) -> tuple[float, float, float]:
    """Darkest and brightest mean luma, and the lowest luma spread, over every window of
    ``fraction`` (width, height shares) of the still: what a camera moving over it can show."""
    small = source_gray
    if max(small.shape) > 256:
        k = 256 / max(small.shape)
        small = cv2.resize(small, (max(2, round(small.shape[1] * k)),
                                   max(2, round(small.shape[0] * k))),
                           interpolation=cv2.INTER_AREA)
    f = small.astype(np.float32)
    kw = max(1, min(f.shape[1], round(f.shape[1] * fraction[0])))
    kh = max(1, min(f.shape[0], round(f.shape[0] * fraction[1])))
    mean = cv2.boxFilter(f, -1, (kw, kh), borderType=cv2.BORDER_REFLECT)
    sq = cv2.boxFilter(f * f, -1, (kw, kh), borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    h0, w0 = kh // 2, kw // 2
    inner = (slice(h0, max(h0 + 1, f.shape[0] - (kh - 1 - h0))),
             slice(w0, max(w0 + 1, f.shape[1] - (kw - 1 - w0))))
    return float(mean[inner].min()), float(mean[inner].max()), float(std[inner].min())


ALIGN_LIMIT = 0.08
"""Largest warp (relative: scale/shear change, shift as a share of the size) an alignment takes."""


def affine_warp(frame: np.ndarray, window: np.ndarray,
                limit: float = ALIGN_LIMIT) -> np.ndarray | None:
    """The small affine warp (ECC, 2x3) that maps ``frame`` onto ``window`` (two gray images
    of one size), or None when it does not converge or is larger than ``limit`` (relative), so
    an unrelated picture is never bent to fit."""
    warp: npt.NDArray[np.float32] = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 1e-4)
    try:
        # The stub's form with gaussFiltSize wants a mask array; OpenCV takes None (no mask).
        _, warp = cv2.findTransformECC(  # type: ignore[call-overload]
            frame.astype(np.float32), window.astype(np.float32), warp, cv2.MOTION_AFFINE,
            criteria, None, 5)
    except cv2.error:
        return None
    h, w = frame.shape
    if (np.abs(warp[:, :2] - np.eye(2)).max() > limit
            or abs(warp[0, 2]) > limit * w or abs(warp[1, 2]) > limit * h):
        return None
    return warp


def refine(window: np.ndarray, content: np.ndarray, limit: float = ALIGN_LIMIT) -> np.ndarray:
    """Align ``window`` onto ``content`` with a small affine warp (ECC), if one converges.

    Covers a slight rotation or skew of the first frame (an orbit starts turned); warps larger
    than ``limit`` are refused and ``window`` is returned as it is.
    """
    warp = affine_warp(content, window, limit)
    if warp is None:
        return window
    h, w = content.shape
    return cv2.warpAffine(window, warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


# ----------------------------------------------------------------------------- motion


def smooth(values: np.ndarray, window: int = 9) -> np.ndarray:
    """Centred moving average along axis 0; point-mirrored ends keep a linear trend."""
    if len(values) < 3:
        return values.astype(np.float64)
    window = max(3, min(window, len(values) - (1 - len(values) % 2)))
    pad = window // 2
    padded = np.pad(values.astype(np.float64), [(pad, pad)] + [(0, 0)] * (values.ndim - 1),
                    mode="reflect", reflect_type="odd")
    kernel = np.ones(window) / window
    if values.ndim == 1:
        return np.convolve(padded, kernel, mode="valid")
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid")
                     for k in range(values.shape[1])], axis=1)


def global_motion(prev: np.ndarray, cur: np.ndarray) -> tuple[float, float, float] | None:
    """Frame-to-frame motion ``(dx, dy, dzoom)`` in analysis pixels, or None if untrackable.

    ``dzoom`` is the scale change expressed as the displacement it causes at the frame corner.
    """
    matrix = tracking.similarity(prev, cur, tracking.GATE)
    if matrix is None:
        return None
    h, w = prev.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    dx = matrix[0, 0] * cx + matrix[0, 1] * cy + matrix[0, 2] - cx
    dy = matrix[1, 0] * cx + matrix[1, 1] * cy + matrix[1, 2] - cy
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    return float(dx), float(dy), (scale - 1.0) * float(np.hypot(cx, cy))


def pair_steps(gray: np.ndarray, first: int = 1, stop: int | None = None) -> np.ndarray:
    """``global_motion`` of the pairs ending at frames ``first`` to ``stop - 1`` (all by
    default): one ``(dx, dy, dzoom)`` row each, NaN where untrackable."""
    stop = gray.shape[0] if stop is None else stop
    steps = np.full((max(stop - first, 0), 3), np.nan)
    for i in range(first, stop):
        found = global_motion(gray[i - 1], gray[i])
        if found is not None:
            steps[i - first] = found
    return steps


def track_pairs(gray: np.ndarray, pool: Executor, parts: int) -> Callable[[], np.ndarray]:
    """Start ``pair_steps`` of every pair in ``pool``, a contiguous share per part; the
    returned call waits for them and gives the rows in order.

    The pairs are independent, and a few calls at once keep the cores busier (and spend less
    CPU) than OpenCV's own threads on frames this small.
    """
    bounds = np.linspace(1, max(gray.shape[0], 1), max(parts, 1) + 1).astype(int)
    futures = [pool.submit(pair_steps, gray, int(a), int(b))
               for a, b in itertools.pairwise(bounds) if b > a]

    def result() -> np.ndarray:
        rows = [f.result() for f in futures]
        return np.concatenate(rows) if rows else np.zeros((0, 3))

    return result


@dataclass
class Motion:
    jitter_px: float
    max_jump_px: float
    max_jump_at: float
    speed_px: float
    tracked: float
    steps: np.ndarray
    """Per-pair motion magnitude in 1024-wide pixels (NaN where untracked)."""


def motion(gray: np.ndarray, times: np.ndarray, scale: float,
           skip: np.ndarray | None = None, steps: np.ndarray | None = None) -> Motion:
    """Global motion between neighbouring frames, and its wobble around a smooth trend.

    Args:
        gray: analysis frames.
        times: frame times (seconds) for locating the largest jump.
        scale: analysis pixels to 1024-wide pixels.
        skip: per-pair mask (length n-1) of pairs to leave out (cuts, black frames).
        steps: ``pair_steps(gray)`` when already tracked (``track_pairs``).
    """
    steps = (pair_steps(gray) if steps is None else steps) * scale  # a new array
    if skip is not None:
        steps[skip] = np.nan
    valid = ~np.isnan(steps[:, 0])
    magnitude = np.linalg.norm(steps, axis=1)
    if valid.sum() < 5:
        return Motion(0.0, 0.0, 0.0, 0.0, float(valid.mean()) if len(valid) else 0.0, magnitude)
    # Trend over tracked pairs only, each run of consecutive tracked pairs on its own.
    residual = np.full(len(steps), np.nan)
    idx = np.flatnonzero(valid)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    for run in runs:
        if len(run) >= 5:
            seg = steps[run]
            residual[run] = np.linalg.norm(seg - smooth(seg), axis=1)
    judged = ~np.isnan(residual)
    if not judged.any():
        return Motion(0.0, 0.0, 0.0, float(np.nanmean(magnitude)), float(valid.mean()), magnitude)
    worst = int(np.nanargmax(residual))
    return Motion(
        jitter_px=float(np.sqrt(np.nanmean(residual**2))),
        max_jump_px=float(residual[worst]),
        max_jump_at=float(times[worst + 1]) if len(times) > worst + 1 else 0.0,
        speed_px=float(np.nanmean(magnitude)),
        tracked=float(valid.mean()),
        steps=magnitude,
    )


# ----------------------------------------------------------------------------- temporal


def flicker(series: np.ndarray, keep: np.ndarray | None = None, window: int = 5) -> float:
    """RMS fluctuation of a per-frame series (1-D, or 2-D vectors) around its moving average.

    Frames outside ``keep`` (black frames, frames next to a cut) split the series into runs
    that are judged on their own, so a cut or a black frame is not counted as flicker.
    """
    index = np.arange(len(series)) if keep is None else np.flatnonzero(keep)
    runs = np.split(index, np.flatnonzero(np.diff(index) > 1) + 1) if len(index) else []
    residuals = []
    for run in runs:
        if len(run) >= 5:
            residual = series[run] - smooth(series[run], window)
            if residual.ndim > 1:
                residual = np.linalg.norm(residual, axis=1)
            residuals.append(residual)
    if not residuals:
        return 0.0
    joined = np.concatenate(residuals)
    return float(np.sqrt(np.mean(joined**2)))


def frame_differences(gray: np.ndarray) -> npt.NDArray[np.float64]:
    """Mean absolute gray difference between neighbouring frames (length n-1)."""
    if gray.shape[0] < 2:
        return np.zeros(0)
    flat = np.ascontiguousarray(gray).reshape(gray.shape[0], -1)
    diff = cv2.absdiff(flat[1:], flat[:-1])
    total: npt.NDArray[np.uint64] = diff.sum(axis=1, dtype=np.uint64)
    return total / flat.shape[1]


def frame_stats(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each gray frame (two arrays of length n)."""
    flat = np.ascontiguousarray(gray).reshape(gray.shape[0], -1)
    if flat.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    stats = np.array([cv2.meanStdDev(row) for row in flat]).reshape(len(flat), 2)
    return stats[:, 0], stats[:, 1]


def longest_run(mask: np.ndarray) -> tuple[int, int]:
    """Length and start index of the longest run of True values."""
    best, best_start, run, start = 0, 0, 0, 0
    for i, flag in enumerate(mask):
        if flag:
            if run == 0:
                start = i
            run += 1
            if run > best:
                best, best_start = run, start
        else:
            run = 0
    return best, best_start


def without_drift(gray: np.ndarray, still: np.ndarray, limit: float) -> np.ndarray:
    """``still`` (per neighbouring pair) broken wherever a frame has drifted ``limit`` or more
    (mean absolute gray difference) from the first frame of its run.

    The slow end of an eased move over a smooth picture changes each frame by less than
    ``limit`` yet moves the picture over a few frames; a frozen picture stays equal to where
    its run began.
    """
    out = still.copy()
    anchor: int | None = None
    for i, flag in enumerate(still):  # pair i joins frames i and i + 1
        if not flag:
            anchor = None
            continue
        if anchor is None:
            anchor = i
        elif float(cv2.absdiff(gray[i + 1], gray[anchor]).mean()) >= limit:
            out[i], anchor = False, i + 1
    return out


def structural_correlation(gray: np.ndarray, size: tuple[int, int] = (64, 36)) -> np.ndarray:
    """Normalised cross-correlation of neighbouring thumbnails (length n-1); 1 = same structure."""
    if gray.shape[0] < 2:
        return np.zeros(0)
    thumbs = np.stack([cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in gray])
    flat = thumbs.reshape(len(thumbs), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat, axis=1)
    num = (flat[1:] * flat[:-1]).sum(axis=1)
    den = norms[1:] * norms[:-1]
    return np.where(den > 1e-6, num / np.maximum(den, 1e-6), 1.0)


def _hue_histograms(color: np.ndarray) -> list[np.ndarray | None]:
    """Normalised hue-saturation histogram of each colour thumbnail, None when it has too few
    pixels with a hue worth the name (bright and saturated enough)."""
    hists: list[np.ndarray | None] = []
    for thumb in color:
        hsv = cv2.cvtColor(thumb, cv2.COLOR_RGB2HSV)
        mask = ((hsv[..., 1] >= 40) & (hsv[..., 2] >= 40)).astype(np.uint8)
        if mask.sum() < 0.05 * mask.size:
            hists.append(None)
            continue
        hist = cv2.calcHist([hsv], [0, 1], mask, [16, 4], [0, 180, 0, 256])
        hists.append(cv2.normalize(hist, hist, 1, 0, cv2.NORM_L1))
    return hists


def _distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA)
                 if a is not None and b is not None else 0.0)


def _lasting(hists: list[np.ndarray | None], i: int, pool: int) -> float:
    """The smallest distance between any of the ``pool`` frames up to ``i`` and any of the
    ``pool`` frames after it (pairs without a histogram left out): high only when no frame
    after the boundary has the colours of a frame before it."""
    before = [h for h in hists[max(0, i + 1 - pool):i + 1] if h is not None]
    after = [h for h in hists[i + 1:i + 1 + pool] if h is not None]
    if not before or not after:
        return _distance(hists[i], hists[i + 1])
    return min(_distance(a, b) for a in before for b in after)


def colour_jumps(color: np.ndarray, pool: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Bhattacharyya distances between hue-saturation histograms of neighbouring colour
    thumbnails (length n-1 each): 0 for the same colours, 1 for disjoint ones.

    Returns the distance of each pair of neighbouring frames, and how much of it lasts: the
    smallest distance between any of the ``pool`` frames before the same boundary and any of
    the ``pool`` frames after it. A cut changes the colours for good, so both are high; a
    colour flicker (frames alternating between two tints, or a tint on some frames and not on
    others), a one-frame flash or fine saturated detail aliasing under a fast move changes
    them from one frame to the next, but a frame after the boundary still matches one before.

    Only pixels with a hue worth the name count (bright and saturated enough): the hue of
    near-black or grey pixels is noise, and a dark or grey still would otherwise "cut" on it.
    A pair where either side has too few such pixels scores 0.
    """
    if color.shape[0] < 2:
        return np.zeros(0), np.zeros(0)
    hists = _hue_histograms(color)
    pairs = np.array([_distance(a, b) for a, b in itertools.pairwise(hists)])
    lasting = np.array([_lasting(hists, i, pool) for i in range(len(hists) - 1)])
    return pairs, lasting


def rgb_means(color: np.ndarray) -> npt.NDArray[np.float64]:
    """Per-frame mean R, G, B of the colour thumbnails (``(n, 3)``, 0-255)."""
    means: npt.NDArray[np.float64] = (
        color.reshape(len(color), -1, 3).astype(np.float64).mean(axis=1))
    return means


def channel_flicker(means: np.ndarray, keep: np.ndarray | None = None, *,
                    level: np.ndarray | None = None, floor: float = 96.0,
                    quantile: float = 0.9) -> npt.NDArray[np.float64]:
    """Flicker of each colour channel as a share of its level, in per cent (``(3,)``).

    A frame's departure from the middle of its two neighbours (``x[i] - (x[i-1] + x[i+1]) / 2``)
    is what a flicker changes and a smooth move hardly does: a channel raised by 4 % every
    other frame departs by 4 % of its level on every frame. The ``quantile`` of the departures
    is taken (an irregular flicker raises some frames and not others, a single odd frame is not
    a flicker), over the runs of ``keep`` (frames next to cuts and black frames are left out),
    divided by the channel's ``level`` (by default its mean over the kept frames), at least
    ``floor``: a dark channel's noise, and what a flicker of another channel leaks into it
    through the YUV round trip (a quarter of red's departure shows in blue), would otherwise
    read as a large share.
    """
    index = np.arange(len(means)) if keep is None else np.flatnonzero(keep)
    runs = np.split(index, np.flatnonzero(np.diff(index) > 1) + 1) if len(index) else []
    departures = [np.abs(means[r][1:-1] - (means[r][:-2] + means[r][2:]) / 2)
                  for r in runs if len(r) >= 5]
    if not departures:
        return np.zeros(means.shape[1] if means.ndim > 1 else 1)
    joined = np.concatenate(departures)
    level = np.maximum(means[index].mean(axis=0) if level is None else level, floor)
    share: npt.NDArray[np.float64] = 100 * np.quantile(joined, quantile, axis=0) / level
    return share


def lab_means(color: np.ndarray) -> npt.NDArray[np.float64]:
    """Per-frame mean L*, a*, b* (OpenCV 8-bit Lab scaled to L 0-255, a/b centred on 0)."""
    lab = np.stack([cv2.cvtColor(c, cv2.COLOR_RGB2LAB) for c in color]).astype(np.float64)
    means: npt.NDArray[np.float64] = lab.reshape(len(lab), -1, 3).mean(axis=1)
    means[:, 1:] -= 128.0
    return means


def runs_text(indices: np.ndarray, times: np.ndarray) -> str:
    """'2.0-2.1 s' style description of where flagged frames sit (first few runs)."""
    if len(indices) == 0:
        return ""
    groups = np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)
    parts = []
    for group in groups[:3]:
        a, b = times[group[0]], times[group[-1]]
        parts.append(f"{a:.1f} s" if group[0] == group[-1] else f"{a:.1f}-{b:.1f} s")
    if len(groups) > 3:
        parts.append(f"and {len(groups) - 3} more")
    return ", ".join(parts)
