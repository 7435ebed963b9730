"""The colour flicker and colour cut metrics on synthetic series and thumbnails: one channel's
flicker reads as its share of the channel's level, a smooth change reads as none; a colour
cut lasts, a flicker, a flash or aliasing stripes come back."""

from __future__ import annotations

import numpy as np
import pytest

from video_agent.quality import metrics as m


def _series(n: int = 48) -> np.ndarray:
    """Per-frame R, G, B means of a slow pan: smooth, curved trends."""
    t = np.linspace(0, 1, n)[:, None]
    return np.array([150.0, 120.0, 100.0]) + np.array([30.0, -20.0, 10.0]) * t ** 2


@pytest.mark.parametrize("channel", [0, 1, 2])
@pytest.mark.parametrize("amount", [0.03, 0.05])
def test_one_channel_raised_every_other_frame_reads_as_its_share(channel: int,
                                                                 amount: float) -> None:
    means = _series()
    means[1::2, channel] *= 1 + amount
    shares = m.channel_flicker(means)
    assert shares[channel] == pytest.approx(100 * amount, rel=0.1)
    assert np.delete(shares, channel).max() < 0.05


def test_a_smooth_change_is_no_flicker() -> None:
    assert m.channel_flicker(_series()).max() < 0.05


def test_a_dark_channel_is_measured_against_the_floor() -> None:
    """Two levels of noise on a channel at 20 are not a 10 % flicker."""
    means = _series()
    means[:, 2] = 20.0
    means[1::2, 2] += 2.0
    assert m.channel_flicker(means)[2] == pytest.approx(100 * 2 / 96, rel=0.1)


def test_a_single_odd_frame_is_a_peak_not_a_flicker() -> None:
    means = _series()
    means[20, 0] *= 1.3
    assert m.channel_flicker(means)[0] < 1.0
    assert m.channel_flicker(means, quantile=1.0)[0] > 20


def _thumbs(kinds: str) -> np.ndarray:
    """One 36x64 thumbnail per letter: a saturated orange (a) or a saturated blue (b)."""
    colours = {"a": (230, 120, 30), "b": (40, 70, 220)}
    return np.stack([np.full((36, 64, 3), colours[k], np.uint8) for k in kinds])


def test_a_colour_cut_lasts() -> None:
    jumps, lasting = m.colour_jumps(_thumbs("aaaaabbbbb"))
    assert jumps[4] > 0.9 and lasting[4] > 0.9
    assert np.delete(jumps, 4).max() < 0.01


@pytest.mark.parametrize("kinds", ["ababababab", "abbabaabba", "aaaabaaaaa", "abaaaaaaaa",
                                   "aaaaaaaaba"])
def test_a_flicker_or_a_flash_comes_back(kinds: str) -> None:
    """Alternating, irregular and one-frame changes, next to the clip's ends too."""
    jumps, lasting = m.colour_jumps(_thumbs(kinds))
    assert jumps.max() > 0.9
    assert lasting.max() < 0.01


def test_a_stray_first_frame_is_a_cut() -> None:
    """Nothing before it to come back to: the first frame alone in other colours still cuts."""
    jumps, lasting = m.colour_jumps(_thumbs("baaaaaaaaa"))
    assert jumps[0] > 0.9 and lasting[0] > 0.9
