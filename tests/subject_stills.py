"""Generated stills with one named, non-face subject: a bright figure (a lighthouse-like tower
with a lamp on top) on a dim, gently textured backdrop, placed where a test needs it."""

from __future__ import annotations

import cv2
import numpy as np

SIZE = (1536, 864)


def subject_still(cx: int, cy: int, r: int, size: tuple[int, int] = SIZE,
                  seed: int = 0) -> np.ndarray:
    """RGB still with a tower ``2r`` wide centred at ``(cx, cy)`` and a lamp on its top."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([60 + 20 * np.sin(xx / w * 3), 70 + 15 * np.cos(yy / h * 2),
                     np.full_like(xx, 80)], axis=2)
    grain = cv2.resize(rng.normal(0, 8, (h // 8, w // 8, 3)).astype(np.float32), (w, h))
    img = np.clip(base + grain, 0, 255).astype(np.uint8)
    top = int(cy - 1.4 * r)
    cv2.rectangle(img, (cx - r, top), (cx + r, int(cy + 1.4 * r)), (235, 200, 90), -1)
    cv2.circle(img, (cx, top), int(0.8 * r), (250, 240, 200), -1)
    return img


def pixels(box: tuple[float, float, float, float], size: tuple[int, int] = SIZE
           ) -> tuple[float, float, float, float]:
    """A normalised ``(x0, y0, x1, y1)`` box in pixels of a still of ``size``."""
    w, h = size
    return box[0] * w, box[1] * h, box[2] * w, box[3] * h
