"""Draw ``stories/images/mountain_panorama.jpg``: layered ridges under a morning sky (2048x768)."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

W, H = 2048, 768


def ridge(base: float, amp: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.arange(W)
    height = np.zeros(W)
    for k in range(1, 9):
        height += (rng.uniform(0.5, 1) * amp / k**1.2
                   * np.sin(2 * np.pi * x * k / W * rng.uniform(1, 3) + rng.uniform(0, 6)))
    return base + height


def main() -> None:
    y = np.linspace(0, 1, H)[:, None]
    img = np.stack([200 - 80 * y, 170 - 60 * y, 255 - 60 * y], -1) * np.ones((1, W, 1))
    yy, xx = np.mgrid[0:H, 0:W]
    d = np.hypot(xx - 1400, yy - 200)
    img += (np.clip(1 - d / 260, 0, 1) ** 2)[..., None] * np.array([55, 60, 0])
    img[d < 55] = [255, 240, 200]
    for base, amp, colour, seed in [(380, 120, (120, 130, 170), 1), (470, 90, (70, 100, 110), 2),
                                    (560, 70, (40, 80, 50), 3), (650, 40, (30, 60, 30), 4)]:
        h = ridge(base, amp, seed)
        shade = np.clip((yy - h[None, :]) / 300, 0, 1)
        layer = np.array(colour)[None, None, :] * (1 - 0.4 * shade)[..., None]
        img = np.where((yy > h[None, :])[..., None], layer, img)
    img += np.random.default_rng(7).normal(0, 4, img.shape)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    out = out.filter(ImageFilter.GaussianBlur(0.6))
    out.save(Path(__file__).parent / "stories" / "images" / "mountain_panorama.jpg", quality=90)


if __name__ == "__main__":
    main()
