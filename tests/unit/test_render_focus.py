"""Focus points from the image: faces, saliency, horizon, rule-of-thirds fallback."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from video_agent.adapters.render.focus import THIRDS, find_focus_points, is_face_name
from video_agent.adapters.render.pipeline import load_rgb

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "examples" / "stories" / "images" / "portrait.jpg"


def portrait() -> np.ndarray:
    """A real photograph with one face (the astronaut portrait, public domain)."""
    if PORTRAIT.exists():
        return load_rgb(PORTRAIT)
    data = pytest.importorskip(
        "skimage.data", reason="no portrait photo: examples/stories/images/portrait.jpg is "
                               "missing and scikit-image (which ships one) is not installed")
    return np.ascontiguousarray(data.astronaut())


def backdrop(w: int = 960, h: int = 540) -> np.ndarray:
    """A soft gradient backdrop, nothing salient on it."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.dstack([60 + 40 * xx / w, 70 + 30 * yy / h, np.full_like(xx, 90)])
    return img.astype(np.uint8)


def test_face_names_use_the_face_detector_and_land_on_the_face() -> None:
    img = portrait()
    [face] = find_focus_points(img, ["face"])
    assert face.method == "face" and face.box is not None
    bx, by, bw, bh = face.box
    assert bx <= face.x <= bx + bw and by <= face.y <= by + bh
    # the astronaut's face is in the upper left-centre of the photo, not at the centre
    assert 0.3 < face.x < 0.6 and 0.05 < face.y < 0.4
    [hair] = find_focus_points(img, ["barista_hair"])
    assert hair.method == "face" and hair.y < face.y  # hair sits above the face centre


def test_with_no_names_a_portrait_is_focused_on_its_face() -> None:
    [point] = find_focus_points(portrait())
    assert point.method == "face"


def test_a_salient_object_is_found_by_saliency() -> None:
    img = backdrop()
    cv2.circle(img, (700, 170), 40, (250, 40, 30), -1)
    [point] = find_focus_points(img, ["menu_book"])
    assert point.method == "saliency"
    assert abs(point.x - 700 / 960) < 0.06 and abs(point.y - 170 / 540) < 0.08


def test_several_names_get_distinct_salient_spots() -> None:
    img = backdrop()
    cv2.circle(img, (700, 170), 40, (250, 40, 30), -1)
    cv2.rectangle(img, (150, 330), (250, 430), (20, 230, 240), -1)
    a, b = find_focus_points(img, ["cup", "menu_book"])
    assert {a.method, b.method} == {"saliency"}
    found = sorted([(round(a.x, 1), round(a.y, 1)), (round(b.x, 1), round(b.y, 1))])
    assert abs(found[0][0] - 200 / 960) < 0.1 and abs(found[1][0] - 700 / 960) < 0.1


def test_a_face_name_without_a_face_falls_back_and_says_how() -> None:
    img = backdrop()
    cv2.circle(img, (300, 300), 50, (240, 240, 240), -1)
    [point] = find_focus_points(img, ["face"])
    assert point.method in ("saliency", "thirds")


def test_a_featureless_image_falls_back_to_rule_of_thirds() -> None:
    flat = np.full((540, 960, 3), 128, np.uint8)
    points = find_focus_points(flat, ["subject", "table"])
    assert [p.method for p in points] == ["thirds", "thirds"]
    assert all((p.x, p.y) in THIRDS for p in points)
    assert (points[0].x, points[0].y) != (points[1].x, points[1].y)


def test_the_horizon_is_found_as_the_strongest_long_edge() -> None:
    img = np.zeros((540, 960, 3), np.uint8)
    img[:330] = (150, 190, 235)  # sky
    img[330:] = (30, 70, 110)  # sea
    [point] = find_focus_points(img, ["horizon"])
    assert point.method == "horizon"
    assert abs(point.y - 330 / 540) < 0.02


def test_focus_points_serialise_to_plain_json_values() -> None:
    import json

    [point] = find_focus_points(portrait(), ["face"])
    data = point.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {"name", "x", "y", "method"}


@pytest.mark.parametrize(("name", "face"), [
    ("face", True), ("barista_face", True), ("Eyes", True), ("menu_book", False),
    ("horizon", False), ("steam", False),
])
def test_face_like_names(name: str, face: bool) -> None:
    assert is_face_name(name) is face
