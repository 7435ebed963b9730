"""Metrics of the quality gate on synthetic frames (no video files)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from video_agent.quality import metrics as m


def texture(seed: int = 0, size: tuple[int, int] = (480, 320)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(128, 50, (size[1] // 8, size[0] // 8)).astype(np.float32)
    img = cv2.resize(noise, size, interpolation=cv2.INTER_CUBIC)
    return np.clip(img, 0, 255).astype(np.uint8)


def window(image: np.ndarray, zoom: float, cx: float, cy: float, size=(256, 144)) -> np.ndarray:
    h, w = image.shape
    k = min(w, h * size[0] / size[1]) / zoom / size[0]
    matrix = np.array([[k, 0, cx - k * (size[0] - 1) / 2], [0, k, cy - k * (size[1] - 1) / 2]])
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def test_ssim_and_psnr_of_identical_and_unrelated_images() -> None:
    a, b = texture(1), texture(2)
    assert m.ssim(a, a) == pytest.approx(1.0, abs=1e-4)
    assert m.psnr(a, a) == 100.0
    assert m.ssim(a, b) < 0.3
    assert m.psnr(a, b) < 15


@pytest.mark.parametrize(("zoom", "dx"), [(1.0, 0.0), (1.2, 30.0), (1.4, -40.0)])
def test_fidelity_finds_the_window_the_first_frame_shows(zoom: float, dx: float) -> None:
    still = texture(3, (640, 400))
    first = window(still, zoom, 320 + dx, 200)
    fid = m.fidelity(first, still)
    assert fid.zoom == pytest.approx(zoom, abs=0.03)
    assert fid.ssim > 0.8


def test_fidelity_of_another_image_is_low() -> None:
    first = window(texture(4, (640, 400)), 1.1, 320, 200)
    assert m.fidelity(first, texture(5, (640, 400))).ssim < 0.4


def test_letterboxed_frame_is_compared_inside_its_bars() -> None:
    still = texture(6, (400, 300))  # 4:3 still shown pillarboxed in a 16:9 frame
    content = cv2.resize(still, (192, 144), interpolation=cv2.INTER_AREA)
    frame = np.zeros((144, 256), np.uint8)
    frame[:, 32:224] = content
    assert m.content_box(frame) == (32, 0, 224, 144)
    assert m.fidelity(frame, still).ssim > 0.9


def test_smooth_keeps_a_linear_series() -> None:
    series = np.linspace(0, 10, 30)
    assert np.allclose(m.smooth(series)[5:-5], series[5:-5])


def pan(n: int, speed: float, integer: bool = False) -> np.ndarray:
    still = texture(7, (640, 400))
    frames = []
    for i in range(n):
        x = 200 + i * speed
        frames.append(window(still, 1.3, round(x) if integer else x, 200))
    return np.stack(frames)


def test_smooth_sub_pixel_pan_has_low_jitter_and_integer_steps_high() -> None:
    times = np.arange(48) / 24
    smooth_pan = m.motion(pan(48, 0.4), times, scale=4.0)
    stepped = m.motion(pan(48, 0.4, integer=True), times, scale=4.0)
    assert smooth_pan.jitter_px < 0.2
    assert stepped.jitter_px > 2 * smooth_pan.jitter_px
    assert smooth_pan.tracked == 1.0


def test_flicker_sees_alternating_brightness_but_not_a_slow_fade() -> None:
    fade = np.linspace(100, 140, 48)
    flick = fade + np.where(np.arange(48) % 2, 4.0, -4.0)
    assert m.flicker(fade) < 0.05
    assert m.flicker(flick) > 2.0
    keep = np.ones(48, bool)
    keep[20:23] = False  # a dropped stretch splits the series
    assert m.flicker(fade, keep) < 0.05


def test_longest_run_and_runs_text() -> None:
    mask = np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)
    assert m.longest_run(mask) == (3, 4)
    times = np.arange(10) / 10
    assert m.runs_text(np.array([2, 3, 4, 8]), times) == "0.2-0.4 s, 0.8 s"


def test_structural_correlation_drops_at_a_cut() -> None:
    frames = np.stack([texture(8, (256, 144))] * 3 + [texture(9, (256, 144))] * 3)
    corr = m.structural_correlation(frames)
    assert corr[2] < 0.3
    assert np.all(np.delete(corr, 2) > 0.99)


def test_frame_differences_are_zero_for_a_freeze() -> None:
    frame = texture(10, (256, 144))
    diffs = m.frame_differences(np.stack([frame, frame, 255 - frame]))
    assert diffs[0] == 0 and diffs[1] > 10


def test_a_slightly_turned_first_frame_still_matches_its_still() -> None:
    still = texture(11, (640, 400))
    rotation = cv2.getRotationMatrix2D((320, 200), 2.0, 1.0)
    turned = cv2.warpAffine(still, rotation, (640, 400), borderMode=cv2.BORDER_REFLECT)
    first = window(turned, 1.2, 320, 200)
    assert m.fidelity(first, still).ssim > 0.85



def test_a_run_of_nearly_equal_neighbours_that_drifts_is_not_frozen() -> None:
    """Each frame brightens 4 more of 64 pixels by one level: neighbours differ by 0.06 (under
    the 0.3 limit), but the picture drifts from the run's first frame, so the run is broken
    each time the drift reaches the limit. A picture that stays put keeps its whole run."""
    frames = np.stack([(100 + (np.arange(64) < 4 * k)).reshape(8, 8).astype(np.uint8)
                       for k in range(16)])
    still = m.frame_differences(frames) < 0.3
    assert still.all()
    kept = m.without_drift(frames, still, 0.3)
    assert m.longest_run(kept)[0] <= 5
    frozen = np.repeat(frames[:1], 16, axis=0)
    assert m.without_drift(frozen, np.ones(15, bool), 0.3).all()
