"""A named subject that is not a face gets a box from the saliency map around its peak; faces,
the horizon and thirds guesses do not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from subject_stills import subject_still
from video_agent.adapters.render.focus import (
    MAX_BOX_SIDE,
    FocusPoint,
    find_focus_points,
    is_subject_name,
    subject_box,
)


def _inside(x: float, y: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def test_an_off_centre_subject_gets_a_box_around_it() -> None:
    [point] = find_focus_points(subject_still(1150, 430, 120), ["lighthouse"])
    assert point.method == "saliency" and point.subject is not None
    x0, y0, x1, y1 = point.subject
    assert _inside(point.x, point.y, point.subject)
    assert _inside(1150 / 1536, (430 - 1.4 * 120) / 864, point.subject)  # the lamp
    assert x0 > 0.55 and x1 < 0.9  # on the right third, not spread over the still
    assert x1 - x0 <= MAX_BOX_SIDE and y1 - y0 <= MAX_BOX_SIDE


def test_a_small_subject_gets_a_small_box() -> None:
    [point] = find_focus_points(subject_still(1250, 300, 40), ["rocket"])
    assert point.subject is not None
    x0, y0, x1, y1 = point.subject
    assert _inside(1250 / 1536, (300 - 56) / 864, point.subject)
    assert x1 - x0 < 0.2 and y1 - y0 < 0.3


def test_the_box_is_serialised_with_the_point() -> None:
    [point] = find_focus_points(subject_still(1150, 430, 120), ["menu_book"])
    data = json.loads(json.dumps(point.as_dict()))
    assert set(data) == {"name", "x", "y", "method", "score", "box"}
    assert len(data["box"]) == 4 and data["box"][2] > 0 and data["box"][3] > 0


def test_faces_horizon_and_thirds_guesses_have_no_subject_box() -> None:
    img = subject_still(1150, 430, 120)
    face, sea = find_focus_points(img, ["face", "sea"])
    assert face.method == "saliency" and face.box is None and face.subject is None
    assert sea.subject is None
    [guess] = find_focus_points(np.full((540, 960, 3), 128, np.uint8), ["lighthouse"])
    assert guess.method == "thirds" and guess.box is None and guess.subject is None
    assert not is_subject_name("woman") and not is_subject_name("horizon")
    assert is_subject_name("menu_book")


def test_a_spread_out_salient_region_is_clamped_about_its_peak() -> None:
    sal = np.zeros((100, 200), np.float32)
    sal[10:95, 5:195] = 1.0
    sal[50, 180] = 2.0  # the peak, near the right edge
    x, y, w, h = subject_box(sal, 180, 50)
    assert w <= MAX_BOX_SIDE + 1e-9 and h <= MAX_BOX_SIDE + 1e-9
    assert x <= 180.5 / 200 <= x + w and y <= 50.5 / 100 <= y + h
    assert x + w <= 1.0 and y >= 0.0


def test_only_saliency_points_have_a_subject() -> None:
    face = FocusPoint("face", 0.5, 0.5, "face", box=(0.4, 0.4, 0.2, 0.2))
    assert face.subject is None
    thing = FocusPoint("cup", 0.5, 0.5, "saliency", box=(0.4, 0.4, 0.2, 0.1))
    assert thing.subject == pytest.approx((0.4, 0.4, 0.6, 0.5))
