"""Flicker judged against the source: brightness that follows the camera's window over the
still (a pan across bright and dark bands, across a lit gradient) is the still's, not flicker;
a real flicker inserted in the same clip is still caught, with or without the still."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from defect_clips import camera_frame, ease, write_clip
from viewer_stills import sample

from video_agent.quality import QualitySettings
from video_agent.quality.checks import measure_checks
from video_agent.quality.frames import decode_for_analysis

S = QualitySettings()


def bands(period: int, size: tuple[int, int] = (3000, 720)) -> np.ndarray:
    """Gray bands, bright and dark in turn, under a fine texture the motion can be tracked on."""
    w, h = size
    x = np.arange(w)
    profile = np.where((x // (period // 2)) % 2 == 0, 215.0, 40.0).astype(np.float32)
    rng = np.random.default_rng(2)
    texture = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), 1.5)
    gray = np.clip(profile[None, :] + texture, 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def lit_gradient() -> np.ndarray:
    """A photo lit from one side: from deep shadow on the left to full light on the right."""
    image = cv2.resize(sample("coffee"), (2400, 800)).astype(np.float32)
    light = np.linspace(0.3, 1.0, image.shape[1], dtype=np.float32) ** 1.5
    return np.clip(image * light[None, :, None], 0, 255).astype(np.uint8)


def pan(image: np.ndarray, n: int, zoom: float, eased: bool = False) -> Iterator[np.ndarray]:
    """Across the whole still, left to right, at constant speed (or eased)."""
    h, w = image.shape[:2]
    win = min(w, h * 16 / 9) / zoom
    for i in range(n):
        t = ease(i / (n - 1)) if eased else i / (n - 1)
        yield camera_frame(image, zoom, win / 2 + (w - win) * t, h / 2)


def flickering(frames: Iterator[np.ndarray], amount: float) -> Iterator[np.ndarray]:
    for i, img in enumerate(frames):
        gain = 1.0 + (amount if i % 2 else -amount)
        yield np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


CASES = {"bands_300": (lambda: bands(300), 48, 1.0, False),
         "bands_500": (lambda: bands(500), 48, 1.0, False),
         "bands_500_closer": (lambda: bands(500), 48, 1.5, False),
         "lit_gradient": (lit_gradient, 48, 1.0, True)}


def judged(clip: Path, image: np.ndarray | None) -> tuple[dict[str, float], list[str]]:
    source = None if image is None else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    values, checks = measure_checks(decode_for_analysis(clip), source, S, source_rgb=image)
    return values, [c.reason for c in checks if c.status == "failed"]


@pytest.mark.parametrize("case", list(CASES))
def test_brightness_that_follows_the_window_is_not_flicker(tmp_path: Path, case: str) -> None:
    make, n, zoom, eased = CASES[case]
    image = make()
    clip = write_clip(tmp_path / "c.mp4", pan(image, n, zoom, eased))
    values, reasons = judged(clip, image)
    assert reasons == [], (reasons, values)
    assert values["flicker_luma"] <= S.max_flicker_luma / 3, values


@pytest.mark.parametrize("case", ["bands_300", "bands_500"])
def test_the_bands_pan_would_read_as_flicker_without_the_still(tmp_path: Path,
                                                              case: str) -> None:
    """Why it matters: judged on its own, the same good pan's luma swings like flicker."""
    make, n, zoom, eased = CASES[case]
    image = make()
    values, _ = judged(write_clip(tmp_path / "c.mp4", pan(image, n, zoom, eased)), image)
    assert values["flicker_luma_raw"] > S.max_flicker_luma, values


@pytest.mark.parametrize("with_still", [True, False])
@pytest.mark.parametrize("case", list(CASES))
def test_real_flicker_in_the_same_pan_is_caught(tmp_path: Path, case: str,
                                                with_still: bool) -> None:
    make, n, zoom, eased = CASES[case]
    image = make()
    amount = 0.05 if case == "lit_gradient" else 0.02  # the same +-2.5 luma or so on each
    clip = write_clip(tmp_path / "c.mp4", flickering(pan(image, n, zoom, eased), amount))
    values, reasons = judged(clip, image if with_still else None)
    assert any(r.startswith("flicker: luma flicker") for r in reasons), (reasons, values)
