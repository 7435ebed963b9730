"""Stills no test here drew (scikit-image's samples), their low-key, high-key and low-contrast
versions, and the colour defects a pipeline can bring in (channel swap, range and matrix
mix-ups, casts), for the gate's viewer tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np

data = __import__("pytest").importorskip("skimage.data")

SAMPLES = ("astronaut", "coffee", "chelsea", "hubble_deep_field", "moon", "camera", "rocket")


def sample(name: str) -> np.ndarray:
    """One scikit-image sample as 8-bit RGB."""
    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3].astype(np.uint8))


def _lut(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    table = np.clip(fn(np.arange(256, dtype=np.float64)), 0, 255).round().astype(np.uint8)
    return lambda img: cv2.LUT(img, table)


TONES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as_shot": lambda img: img,
    "night": _lut(lambda v: 255 * (v / 255) ** 2.2 * 0.35),        # low-key: most of it near 0
    "high_key": _lut(lambda v: 255 - (255 - v) * 0.3),             # bright, washed towards white
    "low_contrast": _lut(lambda v: 118 + (v - 128) * 0.18),        # flat grey fog
}


def _yuv_round_trip(img: np.ndarray, encode: np.ndarray, decode: np.ndarray) -> np.ndarray:
    yuv = img.astype(np.float64) @ encode.T
    return np.clip(yuv @ decode.T, 0, 255).astype(np.uint8)


def _rgb_to_yuv(kr: float, kb: float) -> np.ndarray:
    kg = 1 - kr - kb
    return np.array([[kr, kg, kb],
                     [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
                     [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))]])


BT601, BT709 = _rgb_to_yuv(0.299, 0.114), _rgb_to_yuv(0.2126, 0.0722)

COLOUR_DEFECTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "red_blue_swap": lambda img: np.ascontiguousarray(img[:, :, ::-1]),
    "full_as_limited": _lut(lambda v: 16 + v * 219 / 255),         # range squeezed: washed out
    "limited_as_full": _lut(lambda v: (v - 16) * 255 / 219),       # range stretched: crushed
    "bt709_as_bt601": lambda img: _yuv_round_trip(img, BT709, np.linalg.inv(BT601)),
    "warm_cast": lambda img: cv2.add(img, np.full_like(img, (40, 10, 0))),
    "green_cast": lambda img: cv2.add(img, np.full_like(img, (0, 35, 0))),
}


def black_insert(frames: Iterator[np.ndarray], start: int, count: int,
                 level: int = 0) -> Iterator[np.ndarray]:
    """Frames ``start`` .. ``start + count - 1`` replaced by flat frames of ``level``."""
    for i, img in enumerate(frames):
        yield np.full_like(img, level) if start <= i < start + count else img
