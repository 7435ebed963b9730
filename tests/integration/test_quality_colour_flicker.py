"""Colour flicker and colour drift judged against the source: colour that follows the camera's
window over the still (a pan from a sunset sky to a green field) is the still's; a real colour
flicker (red up by a tenth every other frame) or a real tint creeping in over the
same pan is caught."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from defect_clips import camera_frame, write_clip

from video_agent.quality import QualitySettings
from video_agent.quality.checks import measure_checks
from video_agent.quality.frames import decode_for_analysis

S = QualitySettings()
SUNSET, FIELD = (235, 120, 40), (40, 150, 50)
N = 48


def sky_to_field(size: tuple[int, int] = (3000, 720)) -> np.ndarray:
    """A sunset sky on the left turning into a green field on the right in three steps (a tree
    line, a hedge), under a fine texture the motion can be tracked on."""
    w, h = size
    t = np.clip(np.round(np.linspace(0, 1, w) * 3) / 3, 0, 1)[:, None]
    rows = (1 - t) * np.array(SUNSET, np.float32) + t * np.array(FIELD, np.float32)
    rng = np.random.default_rng(4)
    noise = cv2.GaussianBlur(rng.normal(0, 16, (h, w)).astype(np.float32), (0, 0), 1.5)
    return np.clip(rows[None] + noise[:, :, None], 0, 255).astype(np.uint8)


def pan(image: np.ndarray, n: int = N) -> Iterator[np.ndarray]:
    h, w = image.shape[:2]
    win = min(w, h * 16 / 9)
    for i in range(n):
        yield camera_frame(image, 1.0, win / 2 + (w - win) * i / (n - 1), h / 2)


def channel_flicker(frames: Iterator[np.ndarray], amount: float,
                    channel: int) -> Iterator[np.ndarray]:
    """One channel raised by ``amount`` (a share) on every other frame."""
    for i, img in enumerate(frames):
        if i % 2:
            img = img.astype(np.float32)
            img[:, :, channel] *= 1.0 + amount
            img = np.clip(img, 0, 255).astype(np.uint8)
        yield img


def creeping_tint(frames: Iterator[np.ndarray], n: int = N) -> Iterator[np.ndarray]:
    """A magenta tint growing from nothing to strong over the clip."""
    for i, img in enumerate(frames):
        shift = np.array([45, -45, 45], np.float32) * i / (n - 1)
        yield np.clip(img.astype(np.float32) + shift, 0, 255).astype(np.uint8)


def judged(clip: Path, image: np.ndarray | None) -> tuple[dict[str, float], list[str]]:
    source = None if image is None else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    values, checks = measure_checks(decode_for_analysis(clip), source, S, source_rgb=image)
    return values, [c.reason for c in checks if c.status == "failed"]


def test_colour_that_follows_the_window_is_the_stills(tmp_path: Path) -> None:
    """Judged without the still the same good pan drifts in colour far past the limit; with
    it, neither drift nor flicker is left."""
    image = sky_to_field()
    clip = write_clip(tmp_path / "c.mp4", pan(image))
    alone, _ = judged(clip, None)
    assert alone["drift_color"] > S.max_drift_color, alone
    values, reasons = judged(clip, image)
    assert reasons == [], (reasons, values)
    assert values["drift_color"] < S.max_drift_color / 5, values
    assert values["flicker_color"] < S.max_flicker_color / 5, values


@pytest.mark.parametrize("with_still", [True, False])
def test_real_colour_flicker_in_the_same_pan_is_caught(tmp_path: Path, with_still: bool) -> None:
    """The still's colour is taken out, the flicker on top of it is not."""
    image = sky_to_field()
    clip = write_clip(tmp_path / "c.mp4", channel_flicker(pan(image), 0.1, 0))
    values, reasons = judged(clip, image if with_still else None)
    assert any(r.startswith("flicker: colour flicker") for r in reasons), (reasons, values)


def test_a_tint_creeping_in_over_the_same_pan_is_caught(tmp_path: Path) -> None:
    image = sky_to_field()
    values, reasons = judged(write_clip(tmp_path / "c.mp4", creeping_tint(pan(image))), image)
    assert any(r.startswith("drift: colour drift") for r in reasons), (reasons, values)
