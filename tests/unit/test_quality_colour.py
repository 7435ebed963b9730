"""Colour metrics of the gate: CIEDE2000 against scikit-image, and the colour-fidelity
verdicts on a still and its altered copies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from video_agent.quality import metrics as m

skcolor = pytest.importorskip("skimage.color")


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (20, 3), elements=st.floats(0, 1)),
       arrays(np.float64, (20, 3), elements=st.floats(0, 1)))
def test_ciede2000_matches_scikit_image(rgb1: np.ndarray, rgb2: np.ndarray) -> None:
    lab1, lab2 = skcolor.rgb2lab(rgb1[None]), skcolor.rgb2lab(rgb2[None])
    ours = m.ciede2000(lab1, lab2)
    theirs = skcolor.deltaE_ciede2000(lab1, lab2)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_ciede2000_sharma_reference_pairs() -> None:
    """Pairs 1, 7 and 17 of Sharma, Wu and Dalal's CIEDE2000 test data."""
    lab1 = np.array([[50.0, 2.6772, -79.7751], [50.0, 0.0, 0.0], [50.0, 2.5, 0.0]])
    lab2 = np.array([[50.0, 0.0, -82.7485], [50.0, -1.0, 2.0], [73.0, 25.0, -18.0]])
    np.testing.assert_allclose(m.ciede2000(lab1, lab2), [2.0425, 2.3669, 27.1492], atol=1e-4)


def _still() -> np.ndarray:
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:72, 0:128]
    base = np.stack([xx * 2, yy * 3, 255 - xx * 2], axis=2).astype(np.float64)
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)


def test_colour_fidelity_tells_good_from_swapped_and_cast() -> None:
    still = _still()
    same = m.colour_fidelity(still, still)
    assert same.delta_e < 0.5 and same.cast < 0.5 and same.channel_order > 0
    swapped = m.colour_fidelity(np.ascontiguousarray(still[:, :, ::-1]), still)
    assert swapped.channel_order < 0 and swapped.delta_e > 10
    warm = np.clip(still.astype(int) + np.array([30, 0, 0]), 0, 255).astype(np.uint8)
    cast = m.colour_fidelity(warm, still)
    assert cast.cast > 5 and cast.channel_order > 0


def test_window_luma_range_finds_the_darkest_window() -> None:
    gray = np.full((100, 200), 200, np.uint8)
    gray[:, :50] = 10
    darkest, brightest, flattest = m.window_luma_range(gray, (0.25, 1.0))
    assert darkest == pytest.approx(10, abs=1) and brightest == pytest.approx(200, abs=1)
    assert flattest < 1
