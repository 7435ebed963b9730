"""The renderer keeps a named subject (not a face) whole at both ends of a pan, tilt or
push-in: the plan's own ends cut it on these stills, the settled ends do not."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from subject_stills import SIZE, pixels, subject_still
from video_agent.adapters.render.framing import MIN_TRAVEL, cut_boxes
from video_agent.adapters.render.pipeline import plan_render
from video_agent.adapters.render.trajectory import Trajectory, plan_trajectory
from video_agent.models import MotionSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "stories" / "images"
CASES = [  # (subject x, y, half width), move, direction, speed: the plan alone cuts the subject
    ((1150, 430, 120), "pan", "left_to_right", "fast"),
    ((1150, 430, 120), "tilt", "down", "fast"),
    ((300, 600, 200), "pan", "left_to_right", "slow"),
    ((1250, 300, 40), "tilt", "up", "fast"),  # a small subject
    ((300, 250, 40), "pan", "left_to_right", "fast"),  # small, kept whole by its core
    ((1000, 430, 90), "tilt", "up", "fast"),
]


def _cuts(traj: Trajectory, box: tuple[float, float, float, float]) -> list[int]:
    ends = (traj.keyframes[0], traj.keyframes[-1])
    return [len(cut_boxes(k, [box], traj.aspect)) for k in ends]


@pytest.mark.parametrize(("where", "move", "direction", "speed"), CASES)
def test_a_named_subject_is_whole_at_both_ends(where: tuple[int, int, int], move: str,
                                              direction: str, speed: str) -> None:
    image = subject_still(*where)
    spec = MotionSpec.model_validate({"type": move, "direction": direction, "speed": speed,
                                      "duration": 4.0, "focus_points": ["lighthouse"]})
    plan = plan_render(image, spec, preset="draft")
    [point] = plan.focus
    assert point.subject is not None
    box = pixels(point.subject)
    # the same move planned from the focus point alone cuts the subject at one end
    bare = plan_trajectory(spec.type, src_size=SIZE, out_size=(1024, 576), duration=4.0,
                           speed=spec.speed, direction=spec.direction, motion_scale=0.8,
                           focus=[(point.x, point.y)])
    assert sum(_cuts(bare, box)) == 1
    assert _cuts(plan.trajectory, box) == [0, 0]
    assert plan.trajectory.settings["subjects_framed"] == 1
    assert plan.trajectory.settings["named_kept"] in ("whole", "core")
    first, last = plan.trajectory.keyframes[0], plan.trajectory.keyframes[-1]
    assert (last.cx - first.cx, last.cy - first.cy) != (0.0, 0.0)  # still a move


def test_a_scene_that_names_no_subject_plans_as_before() -> None:
    image = subject_still(1150, 430, 120)
    spec = MotionSpec(type="pan", direction="left_to_right", speed="fast", duration=4.0)
    plan = plan_render(image, spec, preset="draft")
    assert plan.focus[0].box is None
    assert "subjects_framed" not in plan.trajectory.settings


def test_a_subject_that_would_stop_the_move_does_not_bring_it_to_a_standstill() -> None:
    """Saliency boxes the rocket's pad lights at the bottom of a short still: keeping them
    whole at the top end of a fast tilt up would leave a tenth of the tilt; the tilt stays."""
    rgb = cv2.cvtColor(cv2.imread(str(EXAMPLES / "rocket_launch.jpg")), cv2.COLOR_BGR2RGB)
    spec = MotionSpec(type="tilt", direction="up", speed="fast", duration=5.0,
                      focus_points=["rocket"])
    plan = plan_render(rgb, spec, motion_scale=0.9, preset="draft")
    h, w = rgb.shape[:2]
    bare = plan_trajectory("tilt", src_size=(w, h), out_size=(1024, 576), duration=5.0,
                           speed="fast", direction="up", motion_scale=0.9,
                           focus=[(plan.focus[0].x, plan.focus[0].y)])
    first, last = plan.trajectory.keyframes[0], plan.trajectory.keyframes[-1]
    planned = bare.keyframes[0].cy - bare.keyframes[-1].cy
    assert first.cy - last.cy >= MIN_TRAVEL * planned > 0
    assert plan.trajectory.settings["named_kept"] == "no"
    # what was asked for and what was done is said, as for any other limit of the renderer
    [said] = [c for c in plan.trajectory.conflicts if c.field == "motion.focus_points"]
    assert said.resolved == "move kept as planned"
    assert "a named subject may be cut at an end" in said.reason
