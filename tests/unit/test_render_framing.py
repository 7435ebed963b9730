"""The ends of every camera move keep subject boxes whole or out of frame: a cutting end is
shifted the least that frees each box, widened only when no shift does."""

from __future__ import annotations

import pytest

from video_agent.adapters.render.framing import cut_boxes, frame_ends, settle
from video_agent.adapters.render.trajectory import Camera, plan_trajectory

OUT = (1024, 576)
ASPECT = OUT[0] / OUT[1]


def test_a_face_cut_by_the_left_edge_is_brought_in_by_the_least_shift() -> None:
    cam = Camera(cx=800, cy=540, width=1000)  # x from 300 to 1300
    face = (250.0, 300.0, 450.0, 550.0)  # three quarters in
    moved = settle(cam, [face], (1920, 1080), ASPECT)
    assert cut_boxes(moved, [face], ASPECT) == []
    assert moved.width == cam.width and moved.cy == cam.cy
    assert 50 < cam.cx - moved.cx < 100  # just far enough, with a small margin


def test_a_face_barely_in_frame_is_left_out_instead() -> None:
    cam = Camera(cx=800, cy=540, width=1000)
    face = (100.0, 300.0, 320.0, 550.0)  # a sliver at the left edge
    moved = settle(cam, [face], (1920, 1080), ASPECT)
    assert cut_boxes(moved, [face], ASPECT) == []
    assert moved.cx - moved.width / 2 >= face[2]  # out of frame, not pulled in


def test_two_faces_that_no_shift_frees_widen_the_crop() -> None:
    cam = Camera(cx=960, cy=540, width=700)  # x from 610 to 1310
    faces = [(560.0, 300.0, 760.0, 520.0), (1160.0, 300.0, 1360.0, 520.0)]
    moved = settle(cam, faces, (1920, 1080), ASPECT)
    assert cut_boxes(moved, faces, ASPECT) == []
    assert moved.width > cam.width


def test_a_camera_that_cuts_nothing_is_left_alone() -> None:
    cam = Camera(cx=960, cy=540, width=1000)
    assert settle(cam, [(800.0, 300.0, 1000.0, 500.0)], (1920, 1080), ASPECT) is cam


LAYOUTS = {
    "portrait": ((1024, 1024), [(0.34, 0.07, 0.54, 0.32)]),
    "tall_portrait": ((1024, 1536), [(0.35, 0.10, 0.53, 0.27)]),
    "group_of_three": ((1800, 700), [(0.10, 0.05, 0.16, 0.32), (0.45, 0.05, 0.51, 0.32),
                                     (0.80, 0.05, 0.86, 0.32)]),
    "off_centre": ((1536, 864), [(0.74, 0.12, 0.85, 0.36)]),
    "small_subject": ((1536, 864), [(0.27, 0.52, 0.31, 0.60)]),
}
MOVES = [("static", None), ("push_in", None), ("pull_out", None), ("ken_burns", None),
         ("pan", "left_to_right"), ("pan", "right_to_left"), ("truck", "left"),
         ("truck", "right"), ("tilt", "up"), ("tilt", "down"), ("crane", "up"),
         ("crane", "down"), ("orbit", "clockwise")]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(("motion", "direction"), MOVES)
@pytest.mark.parametrize("speed", ["slow", "fast"])
def test_no_move_cuts_a_face_at_either_end(layout: str, motion: str, direction: str | None,
                                           speed: str) -> None:
    size, boxes = LAYOUTS[layout]
    x0, y0, x1, y1 = boxes[0]
    traj = frame_ends(plan_trajectory(
        motion, src_size=size, out_size=OUT, duration=6.0, speed=speed,  # type: ignore[arg-type]
        direction=direction, focus=[((x0 + x1) / 2, (y0 + y1) / 2 + 0.05)]), boxes)
    pixels = [(a * size[0], b * size[1], c * size[0], d * size[1]) for a, b, c, d in boxes]
    for end in (traj.at(0.0), traj.at(1.0)):
        assert end.inside(*size, ASPECT)
        assert cut_boxes(end, pixels, ASPECT) == [], (end, traj.settings)


def test_without_subjects_the_plan_is_unchanged() -> None:
    traj = plan_trajectory("pan", src_size=(1920, 1080), out_size=OUT, duration=6.0)
    assert frame_ends(traj, []) is traj
