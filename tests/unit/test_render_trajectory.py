"""Camera trajectory maths: framing at both ends, easing, containment, focus reached."""

from __future__ import annotations

import itertools
import math
from typing import get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from video_agent.adapters.render.pipeline import plane_matrix
from video_agent.adapters.render.trajectory import (
    DIRECTIONS,
    EASINGS,
    MAX_ZOOM,
    ZOOM_RATE,
    Camera,
    clamp,
    ease,
    max_width,
    plan_trajectory,
)
from video_agent.models import MotionType

MOTIONS: tuple[MotionType, ...] = get_args(MotionType)
OUT = (1024, 576)
ASPECT = OUT[0] / OUT[1]


def directions(motion: str) -> list[str | None]:
    return list(DIRECTIONS.get(motion, (None,)))


@pytest.mark.parametrize("name", list(EASINGS))
def test_easing_is_monotonic_and_pinned_at_both_ends(name: str) -> None:
    us = np.linspace(0, 1, 241)
    values = [ease(name, u) for u in us]  # type: ignore[arg-type]
    assert values[0] == 0.0 and values[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in itertools.pairwise(values))


def test_ease_in_out_starts_and_ends_at_rest() -> None:
    eps = 1e-3
    assert ease("ease_in_out", eps) / eps < 0.01
    assert (1 - ease("ease_in_out", 1 - eps)) / eps < 0.01
    assert ease("linear", 0.3) == pytest.approx(0.3)


@settings(max_examples=120, deadline=None)
@given(
    motion=st.sampled_from(MOTIONS),
    speed=st.sampled_from(["slow", "medium", "fast"]),
    duration=st.floats(4.0, 10.0),
    scale=st.floats(0.0, 1.0),
    src=st.sampled_from([(1024, 576), (1920, 1080), (640, 427), (512, 512), (2048, 768),
                         (600, 1000), (4000, 3000)]),
    fx=st.floats(0.0, 1.0), fy=st.floats(0.0, 1.0),
    pick=st.integers(0, 1),
    easing=st.sampled_from(list(EASINGS)),
)
def test_every_frame_of_every_move_stays_inside_the_source(
        motion: MotionType, speed: str, duration: float, scale: float,
        src: tuple[int, int], fx: float, fy: float, pick: int, easing: str) -> None:
    way = directions(motion)[pick % len(directions(motion))]
    traj = plan_trajectory(motion, src_size=src, out_size=OUT, duration=duration,
                           speed=speed, direction=way, easing=easing,  # type: ignore[arg-type]
                           motion_scale=scale, focus=[(fx, fy), (1 - fx, fy)])
    for cam in traj.sample(round(duration * 24)):
        assert cam.inside(*src, ASPECT, tol=1e-6), (motion, cam)
        assert cam.width <= max_width(*src, ASPECT) + 1e-6


def test_push_in_starts_on_the_full_frame_and_ends_centred_on_the_focus() -> None:
    traj = plan_trajectory("push_in", src_size=(1920, 1080), out_size=OUT, duration=6,
                           speed="slow", motion_scale=0.8, focus=[(0.45, 0.45)])
    first, last = traj.sample(144)[0], traj.sample(144)[-1]
    assert (first.cx, first.cy, first.width) == pytest.approx((960, 540, 1920))
    assert (last.cx, last.cy) == pytest.approx((0.45 * 1920, 0.45 * 1080))
    assert first.width / last.width == pytest.approx(math.exp(ZOOM_RATE["slow"] * 0.8 * 6))
    assert not traj.conflicts


def test_pull_out_is_the_push_in_reversed() -> None:
    kw = dict(src_size=(1920, 1080), out_size=OUT, duration=6, focus=[(0.3, 0.6)])
    push = plan_trajectory("push_in", **kw).sample(50)  # type: ignore[arg-type]
    pull = plan_trajectory("pull_out", **kw).sample(50)  # type: ignore[arg-type]
    for a, b in zip(push, reversed(pull), strict=True):
        assert (a.cx, a.cy, a.width) == pytest.approx((b.cx, b.cy, b.width))


def test_focus_near_the_edge_is_framed_as_close_as_the_image_allows() -> None:
    traj = plan_trajectory("push_in", src_size=(1920, 1080), out_size=OUT, duration=6,
                           focus=[(0.98, 0.02)])
    last = traj.sample(10)[-1]
    ex, ey = last.extents(ASPECT)
    assert last.cx + ex == pytest.approx(1920) and last.cy - ey == pytest.approx(0)


@pytest.mark.parametrize(("motion", "way", "axis", "sign"), [
    ("pan", "left_to_right", 0, 1), ("pan", "right_to_left", 0, -1),
    ("truck", "right", 0, 1), ("truck", "left", 0, -1),
    ("tilt", "up", 1, -1), ("tilt", "down", 1, 1),
    ("crane", "up", 1, -1), ("crane", "down", 1, 1),
])
def test_translating_moves_go_the_named_way_monotonically(
        motion: MotionType, way: str, axis: int, sign: int) -> None:
    traj = plan_trajectory(motion, src_size=(1920, 1080), out_size=OUT, duration=6,
                           speed="medium", direction=way)
    pos = np.array([(c.cx, c.cy)[axis] for c in traj.sample(144)])
    steps = np.diff(pos) * sign
    assert (steps >= -1e-9).all() and steps.sum() > 50
    other = np.array([(c.cy, c.cx)[axis] for c in traj.sample(144)])
    assert np.ptp(other) < 1e-6
    assert not traj.conflicts


def test_pan_travel_follows_speed_and_motion_scale() -> None:
    def travel(speed: str, scale: float) -> float:
        cams = plan_trajectory("pan", src_size=(3000, 1000), out_size=OUT, duration=6,
                               speed=speed, motion_scale=scale).sample(2)  # type: ignore[arg-type]
        return (cams[1].cx - cams[0].cx) / cams[0].width

    assert travel("slow", 0.8) < travel("medium", 0.8) < travel("fast", 0.8)
    assert travel("medium", 0.4) == pytest.approx(travel("medium", 0.8) / 2)
    assert travel("slow", 0.0) == 0.0


def test_static_is_a_barely_moving_hold_not_a_frozen_frame() -> None:
    cams = plan_trajectory("static", src_size=(1920, 1080), out_size=OUT, duration=6,
                           speed="fast", motion_scale=1.0).sample(144)
    zoom = cams[0].width / cams[-1].width
    assert 1.005 < zoom < 1.04
    assert {(c.cx, c.cy) for c in cams} == {(960.0, 540.0)}


def test_orbit_rolls_through_level_and_arcs() -> None:
    for way, sign in (("clockwise", 1), ("counterclockwise", -1)):
        cams = plan_trajectory("orbit", src_size=(1920, 1080), out_size=OUT, duration=8,
                               speed="medium", direction=way).sample(97)
        assert sign * cams[0].angle < 0 < sign * cams[-1].angle
        assert cams[48].angle == pytest.approx(0, abs=1e-9)
        assert sign * (cams[-1].cx - cams[0].cx) > 0
        assert cams[48].cy > max(cams[0].cy, cams[-1].cy)  # the arc dips through the middle


def test_ken_burns_calls_at_every_focus_point_and_ends_on_the_main_one() -> None:
    pts = [(0.3, 0.4), (0.7, 0.55), (0.5, 0.3)]
    traj = plan_trajectory("ken_burns", src_size=(4000, 2250), out_size=OUT, duration=9,
                           speed="medium", focus=pts)
    tour = pts[1:] + pts[:1]
    for i, (x, y) in enumerate(tour):
        cam = traj.at(_inverse_ease((i + 1) / len(tour)))
        # as close to the point as a crop of that width can get
        nearest = clamp(Camera(x * 4000, y * 2250, cam.width), 4000, 2250, ASPECT)
        assert (cam.cx, cam.cy) == pytest.approx((nearest.cx, nearest.cy), abs=0.5)
    assert abs(traj.at(1).cx - 0.3 * 4000) < 1 and abs(traj.at(1).cy - 0.4 * 2250) < 1
    assert traj.at(0).width > traj.at(1).width  # and it closes in


def test_ken_burns_makes_one_stop_of_details_a_crop_shows_together() -> None:
    """A face, its hair and an earring a few pixels apart were three stops: the camera turned
    back and forth between them (the gate measured 0.8-1.0 px of jitter on the portrait)."""
    pts = [(0.44, 0.21), (0.44, 0.17), (0.47, 0.24), (0.8, 0.7)]
    traj = plan_trajectory("ken_burns", src_size=(2000, 2000), out_size=OUT, duration=6,
                           speed="medium", focus=pts)
    assert len(traj.keyframes) == 3  # the start, the far point, the face
    end = traj.keyframes[-1]
    nearest = clamp(Camera(0.44 * 2000, 0.21 * 2000, end.width), 2000, 2000, ASPECT)
    assert (end.cx, end.cy) == pytest.approx((nearest.cx, nearest.cy), abs=0.5)


def _inverse_ease(p: float) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ease("ease_in_out", mid) < p else (lo, mid)
    return (lo + hi) / 2


def test_unknown_direction_falls_back_with_a_conflict() -> None:
    traj = plan_trajectory("pan", src_size=(1920, 1080), out_size=OUT, duration=6,
                           direction="diagonal")
    assert traj.settings["direction"] == "left_to_right"
    [conflict] = traj.conflicts
    assert conflict.field == "motion.direction" and conflict.requested == "diagonal"


def test_a_zoom_past_the_limit_is_reduced_with_a_conflict() -> None:
    traj = plan_trajectory("push_in", src_size=(1920, 1080), out_size=OUT, duration=10,
                           speed="fast", motion_scale=1.0)
    cams = traj.sample(240)
    assert cams[0].width / cams[-1].width == pytest.approx(MAX_ZOOM)
    assert [c.field for c in traj.conflicts] == ["motion.speed"]


def test_plane_matrix_maps_output_corners_onto_the_crop_corners() -> None:
    cam = Camera(cx=800.0, cy=500.0, width=640.0, angle=0.0)
    m = plane_matrix(cam, OUT, (1.0, 1.0), 1, 1)
    # output pixel centre (0, 0) sits half an output pixel (0.3125 source px) inside the corner
    x, y = m @ np.array([0.0, 0.0, 1.0])
    assert (x, y) == pytest.approx((800 - 320 + 0.3125 - 0.5, 500 - 180 + 0.3125 - 0.5))
    # chroma at half resolution from a half-resolution source lands on the same spot
    mc = plane_matrix(cam, OUT, (1.0, 1.0), 2, 2)
    xc, yc = mc @ np.array([0.0, 0.0, 1.0])
    assert ((xc + 0.5) * 2, (yc + 0.5) * 2) == pytest.approx((800 - 320 + 0.625, 500 - 180 + 0.625))


@pytest.mark.parametrize("way", ["up", "down"])
def test_a_long_fast_crane_never_zooms_past_the_limit(way: str) -> None:
    """Its tight end was the slide's width (already narrowed to fit the travel) divided by the
    lift: 2.3x on a square still, past what the renderer (and the gate's window search) allow."""
    traj = plan_trajectory("crane", src_size=(1024, 1024), out_size=(1024, 576), duration=8.0,
                           speed="fast", direction=way)
    cover = 1024
    assert min(k.width for k in traj.keyframes) >= cover / MAX_ZOOM - 1e-6
    assert any("crane needs" in c.reason for c in traj.conflicts)
