"""A repair converts a BT.601 or full-range source to BT.709 limited range as a floating-point
conversion would (within rounding), on the planes, whatever the scale."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from video_agent.adapters.render.encode import RGB_TO_YUV709
from video_agent.quality.repair import Geometry
from video_agent.quality.transcode import _PlaneScaler
from video_agent.quality.yuv import to_bt709

KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def _picture(size: tuple[int, int] = (64, 36), seed: int = 1) -> np.ndarray:
    """Saturated colours over smooth gradients: where matrices differ most."""
    rng = np.random.default_rng(seed)
    w, h = size
    rgb = cv2.resize(rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(rgb)


def _encode(rgb: np.ndarray, matrix: str, full: bool) -> np.ndarray:
    """Packed yuv420p of ``rgb`` in ``matrix`` and range, in floating point, chroma averaged."""
    kr, kb = KR_KB[matrix]
    kg = 1 - kr - kb
    x = rgb.astype(np.float64) / 255
    y = x @ np.array([kr, kg, kb])
    cb = (x[..., 2] - y) / (2 - 2 * kb)
    cr = (x[..., 0] - y) / (2 - 2 * kr)
    ys, cs, y0 = (255, 255, 0) if full else (219, 224, 16)
    h, w = y.shape
    planes = [y0 + ys * y] + [cv2.resize(128 + cs * c, (w // 2, h // 2),
                                         interpolation=cv2.INTER_AREA) for c in (cb, cr)]
    return np.concatenate([p.round().clip(0, 255).astype(np.uint8).reshape(-1)
                           for p in planes]).reshape(h * 3 // 2, w)


def _to_709(y: np.ndarray, u: np.ndarray, v: np.ndarray, matrix: str, full: bool
            ) -> np.ndarray:
    """Y'CbCr planes of one size in ``matrix`` and range -> BT.709 limited, float, via R'G'B'."""
    ys, cs, y0 = (255, 255, 0) if full else (219, 224, 16)
    kr, kb = KR_KB[matrix]
    yn = (y - y0) / ys
    r = yn + (v - 128) / cs * (2 - 2 * kr)
    b = yn + (u - 128) / cs * (2 - 2 * kb)
    g = (yn - kr * r - kb * b) / (1 - kr - kb)
    rgb = np.dstack([r, g, b]) * 255
    return rgb @ RGB_TO_YUV709[:, :3].T.astype(np.float64) + RGB_TO_YUV709[:, 3]


def _float_convert(block: np.ndarray, matrix: str, full: bool) -> np.ndarray:
    """``block`` converted to BT.709 limited range in floating point, not rounded: luma with
    the chroma enlarged bilinearly, chroma at its own size (a matrix change mixes Cb and Cr
    only)."""
    h, w = block.shape[0] * 2 // 3, block.shape[1]
    flat = block[h:].reshape(-1).astype(np.float64)
    quarter = (h // 2) * (w // 2)
    u, v = flat[:quarter].reshape(h // 2, w // 2), flat[quarter:].reshape(h // 2, w // 2)
    y = block[:h].astype(np.float64)
    big = [cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) for p in (u, v)]
    luma = _to_709(y, big[0], big[1], matrix, full)[..., 0]
    small_y = cv2.resize(y, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    chroma = _to_709(small_y, u, v, matrix, full)
    return np.concatenate([luma.reshape(-1), chroma[..., 1].reshape(-1),
                           chroma[..., 2].reshape(-1)]).reshape(h * 3 // 2, w)


def _errors(got: np.ndarray, want: np.ndarray) -> tuple[float, float]:
    """Mean absolute error of luma and of chroma."""
    h = got.shape[0] * 2 // 3
    diff = np.abs(got.astype(np.float64) - want)
    return float(diff[:h].mean()), float(diff[h:].mean())


@pytest.mark.parametrize(("matrix", "full"), [("bt601", False), ("bt601", True),
                                              ("bt709", True)])
def test_conversion_matches_floating_point(matrix: str, full: bool) -> None:
    block = _encode(_picture(), matrix, full)
    luma, chroma = _errors(to_bt709(block, matrix, full), _float_convert(block, matrix, full))
    assert luma < 0.4 and chroma < 0.75, (luma, chroma)


def test_grey_is_unchanged_by_a_matrix_change() -> None:
    block = _encode(np.full((8, 8, 3), 128, np.uint8), "bt601", False)
    assert np.array_equal(to_bt709(block, "bt601", False), block)


def test_repair_scaler_converts_an_untagged_bt601_source() -> None:
    """An untagged source (BT.601 by convention) lands on the floating-point conversion of
    its planes within rounding (swscale's own conversion was 1.5 levels of luma off)."""
    block = _encode(_picture((128, 72), seed=4), "bt601", False)
    frame = av.VideoFrame.from_ndarray(block, format="yuv420p")
    out = _PlaneScaler(Geometry(scaled=(128, 72)), (128, 72))(frame).to_ndarray()
    luma, chroma = _errors(out, _float_convert(block, "bt601", False))
    assert luma < 0.4 and chroma < 0.75, (luma, chroma)
