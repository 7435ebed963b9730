"""Frame pairs tracked in helper threads give what tracking them one by one gives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from video_agent.quality import metrics as m


def _frames(n: int = 30) -> np.ndarray:
    rng = np.random.default_rng(4)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (300, 500), dtype=np.uint8), (0, 0), 2)
    frames = [texture[40:184, 10 + 2 * i:10 + 2 * i + 256] for i in range(n)]
    frames[12] = np.full_like(frames[12], 16)  # a flat frame: its pairs cannot be tracked
    return np.ascontiguousarray(np.stack(frames))


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 40])
def test_any_split_gives_the_rows_of_one_pass(parts: int) -> None:
    gray = _frames()
    alone = m.pair_steps(gray)
    with ThreadPoolExecutor(3) as pool:
        split = m.track_pairs(gray, pool, parts)()
    assert split.shape == alone.shape == (len(gray) - 1, 3)
    np.testing.assert_array_equal(np.isnan(split), np.isnan(alone))
    np.testing.assert_allclose(split[~np.isnan(split)], alone[~np.isnan(alone)])
    assert np.isnan(alone[11]).all() and np.isnan(alone[12]).all()
    assert np.nanmedian(alone[:, 0]) == pytest.approx(-2.0, abs=0.05)


def test_one_frame_has_no_pairs() -> None:
    with ThreadPoolExecutor(2) as pool:
        assert m.track_pairs(_frames()[:1], pool, 2)().shape == (0, 3)


def test_motion_on_tracked_rows_is_motion_tracked_there() -> None:
    gray = _frames()
    times = np.arange(len(gray)) / 24
    skip = np.zeros(len(gray) - 1, bool)
    skip[20] = True
    with ThreadPoolExecutor(2) as pool:
        steps = m.track_pairs(gray, pool, 2)()
    given = m.motion(gray, times, 4.0, skip=skip, steps=steps)
    tracked = m.motion(gray, times, 4.0, skip=skip)
    assert given.jitter_px == pytest.approx(tracked.jitter_px)
    assert given.tracked == pytest.approx(tracked.tracked)
    assert np.isnan(given.steps[20])
    assert not np.isnan(steps[20]).any()  # the rows handed in are left as they were
