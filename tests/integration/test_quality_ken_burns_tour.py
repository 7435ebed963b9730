"""A Ken Burns over the example portrait naming its face, hair and earring: the renderer toured
three points (two of them a few pixels apart) and ended on the last, far from the face, so the
gate failed it on jitter (0.8-1.0 px) and on a face whole at neither end."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_quality_long_fast_moves import rendered_and_judged

from video_agent.models import MotionSpec

PORTRAIT = Path(__file__).resolve().parents[2] / "examples" / "stories" / "images" / "portrait.jpg"


@pytest.mark.parametrize("speed", ["slow", "fast"])
def test_a_ken_burns_over_a_portraits_details_passes(tmp_path: Path, speed: str) -> None:
    motion = MotionSpec(type="ken_burns", speed=speed, duration=6.0,  # type: ignore[arg-type]
                        focus_points=["face", "hair", "earring"])
    report = rendered_and_judged(tmp_path, PORTRAIT, motion)
    assert report.verdict == "pass", report.reasons
    assert report.metrics["jitter_px"] < 0.35
