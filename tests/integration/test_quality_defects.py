"""Every clip of the generated defect library is caught with the right reason, and repairs
are checked by decoding the repaired file and, independently, with ffprobe."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import av
import pytest
from defect_clips import BY_NAME, DEFECTS, Defect, source_image

from video_agent.models import MotionSpec, QualityReport, SceneSpec, VideoParams
from video_agent.quality import assess_clip, probe

PLANNED = 4.0


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("defects")


def clip_of(library: Path, defect: Defect) -> Path:
    path = library / f"{defect.name}.mp4"
    if not path.exists():
        defect.make(path)
    return path


def params_for(image: Path, duration: float = PLANNED) -> VideoParams:
    return VideoParams(scene=SceneSpec(content="test scene", number=1, image_url=str(image)),
                       motion=MotionSpec(type="pan", duration=duration))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_REPORTS: dict[tuple[str, str, float], QualityReport] = {}


def judge(library: Path, name: str, duration: float = PLANNED) -> tuple[Path, QualityReport]:
    """Assess a library clip once per (library, clip, plan); later tests reuse the report."""
    clip = clip_of(library, BY_NAME[name])
    key = (str(library), name, duration)
    if key not in _REPORTS:
        image = source_image(library)
        _REPORTS[key] = assess_clip(clip, image, params_for(image, duration),
                                    work_dir=library / "work")
    return clip, _REPORTS[key]


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_defect_is_judged_with_the_right_reason(library: Path, defect: Defect) -> None:
    clip = clip_of(library, defect)
    before = sha(clip)
    _, report = judge(library, defect.name)

    assert report.verdict == defect.verdict, (report.reasons, report.repairs, report.metrics)
    words = " ".join(report.reasons + report.repairs)
    assert defect.reason in words, words
    assert sha(clip) == before, "the input clip must never be changed"
    if defect.verdict == "pass":
        assert report.path == str(clip)
        assert report.reasons == [] and report.repairs == []
    if defect.verdict == "fail":
        assert report.reasons
        assert report.path == str(clip)
    if defect.verdict == "repaired":
        assert Path(report.path).parent == library / "work"
        assert report.original_probe is not None
    if defect.metric and defect.metric in report.metrics:
        assert report.metrics[defect.metric] >= 0
    if defect.name not in ("truncated", "not_a_video"):
        for key in ("ssim_first", "psnr_first", "jitter_px", "max_jump_px", "flicker_luma",
                    "frozen_max_run", "black_frames", "cuts", "drift_luma"):
            assert key in report.metrics, key


REPAIRED = [d for d in DEFECTS if d.verdict == "repaired"]


@pytest.mark.parametrize("defect", REPAIRED, ids=[d.name for d in REPAIRED])
def test_repaired_clip_decodes_to_spec(library: Path, defect: Defect) -> None:
    _, report = judge(library, defect.name)
    repaired = Path(report.path)
    with av.open(str(repaired)) as container:
        assert len(container.streams.audio) == 0
        stream = container.streams.video[0]
        frames = [f for f in container.decode(stream)]
    assert len(frames) == round(PLANNED * 24)
    assert {(f.width, f.height) for f in frames} == {(1024, 576)}
    assert frames[0].format.name == "yuv420p"
    info = probe(repaired)
    assert info.fps == 24 and info.codec == "h264" and info.moov_front is True
    assert 2_000_000 <= info.bitrate <= 5_000_000
    assert report.probe == info
    assert report.original_probe != info


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")
@pytest.mark.parametrize("defect", REPAIRED, ids=[d.name for d in REPAIRED])
def test_repaired_clip_passes_ffprobe(library: Path, defect: Defect) -> None:
    _, report = judge(library, defect.name)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-count_frames",
         "-of", "json", report.path], capture_output=True, text=True, check=True,
    )
    data = json.loads(out.stdout)
    streams = data["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    video = streams[0]
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (1024, 576)
    assert video["r_frame_rate"] == "24/1" and video["avg_frame_rate"] == "24/1"
    assert int(video["nb_read_frames"]) == round(PLANNED * 24)
    assert 2_000_000 <= int(video["bit_rate"]) <= 5_000_000
    assert abs(float(data["format"]["duration"]) - PLANNED) < 0.05
    # moov before mdat: ffprobe's trace names the atoms in file order.
    trace = subprocess.run(["ffprobe", "-v", "trace", report.path], capture_output=True,
                           text=True).stderr
    assert trace.index("type:'moov'") < trace.index("type:'mdat'")


def test_short_clip_far_from_plan_fails(library: Path) -> None:
    _, report = judge(library, "short_3s", duration=6.0)
    assert report.verdict == "fail"
    assert any("gap 3.00 s too large" in r for r in report.reasons), report.reasons


def test_retime_closes_a_small_gap(library: Path) -> None:
    _, report = judge(library, "good_pan", duration=4.3)
    assert report.verdict == "repaired", report.reasons
    assert any(r.startswith("duration: retimed 4.00 -> 4.30 s") for r in report.repairs), (
        report.repairs)
    assert probe(report.path).frame_count == round(4.3 * 24)


def test_reason_locates_black_frames(library: Path) -> None:
    _, report = judge(library, "black_frames")
    assert any(r.startswith("black: 3 black frames at 2.0-2.1 s") for r in report.reasons), (
        report.reasons)
    assert report.metrics["black_frames"] == 3
    assert report.metrics["flicker_luma"] < 1.5, "black frames are not flicker"


def test_missing_source_image_fails_readably(library: Path) -> None:
    clip = clip_of(library, BY_NAME["good_pan"])
    report = assess_clip(clip, library / "missing.png", params_for(library / "missing.png"),
                         work_dir=library / "work")
    assert report.verdict == "fail"
    assert any("missing.png" in r for r in report.reasons)
    assert "jitter_px" in report.metrics
