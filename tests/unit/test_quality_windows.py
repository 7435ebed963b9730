"""Windows of a clip's frames on the still: sampling, sub-pixel window means, flicker left once
the windows' brightness is taken out, and the composition verdict from sampled windows."""

from __future__ import annotations

import numpy as np
import pytest

from video_agent.quality import QualitySettings
from video_agent.quality.composition import Face, composition_checks
from video_agent.quality.metrics import Fidelity, flicker
from video_agent.quality.windows import (
    WindowTrack,
    following_flicker,
    sample_indices,
    window_means,
)


def test_samples_spread_over_the_clip_with_both_ends() -> None:
    assert sample_indices(97) == [0, 24, 48, 72, 96]
    assert sample_indices(3) == [0, 1, 2]
    assert sample_indices(0) == []


def test_window_means_move_smoothly_over_sharp_bands() -> None:
    still = np.where((np.arange(1200) // 60) % 2 == 0, 200, 40).astype(np.uint8)
    still = np.repeat(still[None, :], 300, axis=0)
    x0 = np.linspace(0.0, 0.5, 200)
    windows = np.stack([x0, np.zeros_like(x0), x0 + 0.37, np.ones_like(x0)], axis=1)
    means = window_means(still, windows)
    assert means.min() > 40 and means.max() < 200
    # the bands enter and leave the window smoothly: no pixel-step flicker in the series
    assert flicker(means) < 0.3


def test_flicker_left_after_the_windows_brightness() -> None:
    rng = np.random.default_rng(1)
    expected = 120 + 30 * np.sin(np.linspace(0, 60, 96)) + rng.normal(0, 0.1, 96)
    follows = 0.9 * expected + 8  # another tone curve, same swings
    keep = np.ones(96, bool)
    assert flicker(follows, keep) > 1.5
    assert following_flicker(follows, expected, keep) < 0.2
    flickers = follows + np.where(np.arange(96) % 2, 2.0, -2.0)
    assert following_flicker(flickers, expected, keep) > 1.5


class _Track(WindowTrack):
    """Windows given per frame instead of matched on a still."""

    def __init__(self, windows: list[tuple[float, float, float, float]]) -> None:
        super().__init__(np.zeros((len(windows), 4, 4), np.uint8), np.zeros((4, 4), np.uint8),
                         {i: (lambda w=w: Fidelity(1.0, 100.0, 1.0, 0.0, 0.0, window=w))
                          for i, w in enumerate(windows)})


FACE = Face(box=(0.40, 0.30, 0.50, 0.45), small=False)  # head with headroom from y 0.255
WHOLE = (0.2, 0.1, 0.8, 0.7)
CUT = (0.45, 0.1, 0.95, 0.7)  # the left half of the face is outside


@pytest.mark.parametrize(("windows", "status", "words"), [
    ([WHOLE] * 9, "passed", ""),
    ([WHOLE] * 8 + [CUT], "failed", "on the last frame at 0.8 s"),
    ([CUT] + [WHOLE] * 8, "failed", "on the first frame at 0.0 s"),
    ([WHOLE] * 4 + [(0.6, 0.1, 0.95, 0.7)] + [WHOLE] * 4, "flagged", "subject is lost"),
])
def test_the_verdict_from_sampled_windows(windows: list[tuple[float, float, float, float]],
                                          status: str, words: str) -> None:
    out: dict[str, float] = {}
    times = np.arange(len(windows)) / 10
    (found,) = composition_checks(_Track(windows), times, [FACE], QualitySettings(), out)
    assert found.status == status, found
    assert words in found.reason


def test_a_small_face_cut_at_an_end_is_only_flagged_unless_asked() -> None:
    small = Face(box=(0.40, 0.30, 0.43, 0.34), small=True)
    windows = [WHOLE] * 8 + [(0.415, 0.1, 0.9, 0.7)]
    times = np.arange(9) / 10
    (found,) = composition_checks(_Track(windows), times, [small], QualitySettings(), {})
    assert found.status == "flagged" and "small face" in found.reason
    strict = QualitySettings(fail_on_composition=True)
    (found,) = composition_checks(_Track(windows), times, [small], strict, {})
    assert found.status == "failed"
