"""Clips of the embedded renderer pass the quality gate untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from defect_clips import source_image

from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import assess_clip

render = pytest.importorskip("video_agent.adapters.render")
if not hasattr(render, "render_clip"):
    pytest.skip("the embedded renderer has not landed", allow_module_level=True)


@pytest.mark.parametrize(("motion", "speed"), [("push_in", "slow"), ("pan", "fast"),
                                               ("pull_out", "medium")])
def test_renderer_clip_passes_untouched(tmp_path: Path, motion: str, speed: str) -> None:
    still = source_image(tmp_path)
    spec = MotionSpec(type=motion, speed=speed, duration=4.0)  # type: ignore[arg-type]
    clip = tmp_path / f"{motion}.mp4"
    render.render_clip(still, clip, spec, preset="draft")
    params = VideoParams(scene=SceneSpec(content="scene", number=1, image_url=str(still)),
                         motion=spec)
    report = assess_clip(clip, still, params, work_dir=tmp_path / "work")
    assert report.verdict == "pass", (report.reasons, report.repairs, report.metrics)
    assert report.path == str(clip)
    assert report.metrics["ssim_first"] > 0.8
    assert not (tmp_path / "work").exists(), "a passing clip is never rewritten"
