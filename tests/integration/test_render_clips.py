"""Rendered clips decoded with PyAV: spec, timestamps, colour tags, and the motion they show."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import get_args

import av
import cv2
import numpy as np
import pytest

from video_agent.adapters.render import RenderError, render_clip
from video_agent.adapters.render.focus import detect_faces
from video_agent.models import MotionSpec, MotionType
from video_agent_dev.motion_meter import luma_frames, measure, track_motion

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "examples" / "stories" / "images" / "portrait.jpg"


def detailed_still(w: int = 1600, h: int = 900, seed: int = 3) -> np.ndarray:
    """Gradients, discs, fine noise and text: texture everywhere for the motion meter."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.dstack([xx / w * 200 + 30, yy / h * 180 + 40, (xx + yy) / (w + h) * 150 + 50])
    for _ in range(60):
        cx, cy, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(8, 70))
        cv2.circle(img, (cx, cy), r, [float(v) for v in rng.integers(0, 255, 3)], -1)
    noise = cv2.resize(rng.normal(0, 25, (h // 6, w // 6, 3)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    img = img + noise
    cv2.putText(img, "CAFE MENU", (w // 5, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 4,
                (255, 255, 255), 8)
    return img.clip(0, 255).astype(np.uint8)


def gradient_still(w: int = 1280, h: int = 720) -> np.ndarray:
    """As smooth as a picture gets: the hardest case for a bitrate floor."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([xx / w * 255, yy / h * 255, np.full_like(xx, 120)]).astype(np.uint8)


def check_clip(path: Path, frames: int, size: tuple[int, int] = (1024, 576)) -> dict[str, float]:
    """Decode every frame and check the output spec; return measured figures."""
    with av.open(str(path)) as container:
        assert not container.streams.audio
        stream = container.streams.video[0]
        ctx = stream.codec_context
        assert ctx.name == "h264" and ctx.profile == "High"
        assert ctx.pix_fmt == "yuv420p"
        assert (ctx.width, ctx.height) == size
        assert stream.average_rate == 24
        assert (ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range) == (
            1, 1, 1, 1), "BT.709 primaries/transfer/matrix, limited range"
        times = [f.time for f in container.decode(video=0)]
    assert len(times) == frames
    assert times == [pytest.approx(i / 24, abs=1e-9) for i in range(frames)]
    seconds = frames / 24
    bitrate = path.stat().st_size * 8 / seconds
    assert 2_000_000 <= bitrate <= 5_000_000, f"{bitrate / 1e6:.2f} Mbps"
    head = path.read_bytes()[:65536]
    assert 0 <= head.find(b"moov") < max(head.find(b"mdat"), 0) or head.find(b"mdat") == -1
    assert head.find(b"moov") != -1, "moov atom must be at the front"
    return {"bitrate": bitrate, "seconds": seconds}


@pytest.fixture(scope="module")
def still() -> np.ndarray:
    return detailed_still()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, still: np.ndarray) -> dict[str, Path]:
    """One 4 s clip per motion type (rendered once for the module).

    The moves whose motion is measured use the standard preset, the others the draft one
    (same encoder settings, bilinear warp) to keep the module quick.
    """
    out = tmp_path_factory.mktemp("clips")
    paths = {}
    for motion in get_args(MotionType):
        preset = "standard" if motion in ("push_in", "pan") else "draft"
        report = render_clip(still, out / f"{motion}.mp4",
                             MotionSpec(type=motion, duration=4, speed="medium"), preset=preset)
        assert report.frames == 96 and not report.conflicts
        paths[motion] = report.path
    return paths


@pytest.mark.parametrize("motion", get_args(MotionType))
def test_every_motion_decodes_to_spec(clips: dict[str, Path], motion: str) -> None:
    check_clip(clips[motion], frames=96)


@pytest.mark.parametrize("duration", [4.0, 6.5, 10.0])
def test_frame_count_is_exact_for_the_duration(tmp_path: Path, duration: float) -> None:
    report = render_clip(gradient_still(), tmp_path / "c.mp4",
                         MotionSpec(type="static", duration=duration), preset="draft")
    assert report.frames == round(duration * 24)
    check_clip(report.path, frames=round(duration * 24))


def test_smooth_and_detailed_images_both_land_in_the_bitrate_band(tmp_path: Path,
                                                                   still: np.ndarray) -> None:
    smooth = render_clip(gradient_still(), tmp_path / "smooth.mp4",
                         MotionSpec(type="static", duration=4))
    detailed = render_clip(still, tmp_path / "detailed.mp4",
                           MotionSpec(type="push_in", speed="fast", duration=4))
    for report in (smooth, detailed):
        figures = check_clip(report.path, frames=96)
        assert figures["bitrate"] == pytest.approx(report.bitrate, rel=1e-6)
        assert 3_000_000 < report.bitrate < 4_000_000  # near the 3.5 Mbps target


def test_push_in_grows_the_picture_by_the_planned_zoom(clips: dict[str, Path]) -> None:
    track = measure(clips["push_in"])
    scales = track.scales()
    assert (scales[10:-10] > 1.0).all()
    planned = np.exp(0.07 * 0.8 * 4)  # medium zoom rate x motion_scale x duration
    assert float(np.prod(scales)) == pytest.approx(planned, rel=0.01)
    # eased: at rest at both ends, fastest in the middle
    assert scales[0] - 1 < 0.2 * (scales[47] - 1) and scales[-1] - 1 < 0.2 * (scales[47] - 1)


@pytest.mark.parametrize(("motion", "axis", "sign"), [
    ("pan", 0, -1),  # left_to_right: the camera moves right, the picture slides left
    ("tilt", 1, 1),  # up: the picture slides down
    ("truck", 0, 1),  # left: the picture slides right
])
def test_translations_move_the_picture_the_right_way_and_distance(
        clips: dict[str, Path], motion: str, axis: int, sign: int) -> None:
    shift = measure(clips[motion]).mean_shift()
    along, across = shift[:, axis], shift[:, 1 - axis]
    assert (sign * along[5:-5] > 0).all()
    # medium speed: 0.06 views/s x 0.8 x 4 s = 0.192 of the view
    view = 1024 if axis == 0 else 576
    assert abs(along.sum()) == pytest.approx(0.192 * view, rel=0.03)
    assert abs(across.sum()) < 1.0


def test_pan_is_sub_pixel_smooth_with_no_integer_stepping(clips: dict[str, Path]) -> None:
    track = measure(clips["pan"])
    jitter, largest = track.smoothness()
    assert jitter < 0.06 and largest < 0.25, (jitter, largest)
    steps = np.abs(track.mean_shift()[:, 0])
    # the per-frame shift takes many fractional values, not a few whole pixels; what is left
    # is H.264's quarter-pel motion vectors snapping the slowest frames (< 0.3 px)
    assert len(np.unique(np.round(steps, 2))) > 40
    assert np.abs(np.diff(steps)).max() < 0.35


def test_push_in_jitter_is_within_a_few_hundredths_of_a_pixel(clips: dict[str, Path]) -> None:
    jitter, _ = measure(clips["push_in"]).smoothness()
    assert jitter < 0.03


def test_orbit_rolls_the_picture(clips: dict[str, Path]) -> None:
    track = measure(clips["orbit"])
    angles = np.degrees(np.arctan2(track.transforms[:, 1, 0], track.transforms[:, 0, 0]))
    assert abs(angles.sum()) > 1.0  # clockwise camera roll of ~2 x 1.44 degrees overall


def test_a_meter_sees_integer_stepping_when_it_is_there() -> None:
    """The smoothness meter itself: whole-pixel crops of a slow pan score badly."""
    img = cv2.cvtColor(detailed_still(), cv2.COLOR_RGB2GRAY)
    xs = np.linspace(0, 60, 72)
    stepped = [img[100:676, int(x):int(x) + 1024].copy() for x in xs]
    jitter, largest = track_motion(stepped).smoothness()
    assert jitter > 0.2 and largest > 0.4


def test_push_in_on_a_portrait_ends_framed_on_the_face(tmp_path: Path) -> None:
    if not PORTRAIT.exists():
        pytest.skip("examples/stories/images/portrait.jpg is not there")
    report = render_clip(PORTRAIT, tmp_path / "portrait.mp4",
                         MotionSpec(type="push_in", speed="fast", duration=4,
                                    focus_points=["face"]))
    assert report.focus[0].method == "face"
    last = luma_frames(report.path)[-1]
    faces = detect_faces(last)
    assert faces, "the face must be in the last frame"
    fx, fy, fw, fh = faces[0]
    centre = (fx + fw / 2, fy + fh / 2)
    # centred horizontally; vertically the crop stops at the photo's top edge, which leaves
    # the face just above the middle (a centre push-in would have cut it off at the top)
    assert abs(centre[0] - 0.5) < 0.06 and 0.3 < centre[1] < 0.62
    assert fw > 0.2  # and it fills the frame: the camera closed in on it
    dx, dy = report.settings["trajectory"]["travel_px"]
    assert dx < 0 and dy < 0  # it travelled up and left, toward the face


def test_1080p_renders_to_spec(tmp_path: Path, still: np.ndarray) -> None:
    report = render_clip(still, tmp_path / "hd.mp4", MotionSpec(type="pan", duration=4),
                         size=(1920, 1080), preset="draft")
    check_clip(report.path, frames=96, size=(1920, 1080))


def test_ffprobe_agrees_when_present(clips: dict[str, Path]) -> None:
    if not shutil.which("ffprobe"):
        pytest.skip("ffprobe is not installed")
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
         str(clips["ken_burns"])], check=True, capture_output=True, text=True).stdout)
    [video] = probe["streams"]
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High",
                                                                          "yuv420p")
    assert (video["color_range"], video["color_space"], video["color_primaries"],
            video["color_transfer"]) == ("tv", "bt709", "bt709", "bt709")
    assert video["r_frame_rate"] == "24/1" and int(video["nb_frames"]) == 96
    assert Fraction(video["duration"]) == 4


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"])
def test_an_unusable_image_is_an_image_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    with pytest.raises(RenderError) as info:
        render_clip(bad, tmp_path / "x.mp4", MotionSpec())
    assert info.value.field == "image"
    assert not (tmp_path / "x.mp4").exists()


def test_bad_settings_name_the_field(tmp_path: Path, still: np.ndarray) -> None:
    with pytest.raises(ValueError, match="preset: unknown preset 'ultra'"):
        render_clip(still, tmp_path / "x.mp4", MotionSpec(), preset="ultra")
    with pytest.raises(ValueError, match="size: 1000x576"):
        render_clip(still, tmp_path / "x.mp4", MotionSpec(), size=(1000, 576))
    with pytest.raises(ValueError, match="size: 640x360"):
        render_clip(still, tmp_path / "x.mp4", MotionSpec(), size=(640, 360))


def test_no_partial_file_is_left_when_the_render_fails(tmp_path: Path,
                                                       still: np.ndarray) -> None:
    def explode(fraction: float, message: str) -> None:
        if fraction > 0.3:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        render_clip(still, tmp_path / "x.mp4", MotionSpec(duration=4), progress=explode)
    assert list(tmp_path.iterdir()) == []


def test_fast_moves_get_motion_blur_along_the_move(still: np.ndarray) -> None:
    from video_agent.adapters.render.pipeline import plan_render

    plan = plan_render(still, MotionSpec(type="pan", speed="fast", duration=4))
    assert plan.settings["motion_blur_samples"] == 3
    mid = plan.frames // 2
    blurred = plan.frame(mid)[:576].astype(np.float32)
    sharp = plan.warper.frame([plan.cameras[mid][1]])[:576].astype(np.float32)

    def energy(img: np.ndarray, axis: int) -> float:
        return float(np.abs(np.diff(img, axis=axis)).mean())

    # smeared horizontally (the pan's direction), much less vertically
    along_move = energy(blurred, 1) / energy(sharp, 1)
    across_move = energy(blurred, 0) / energy(sharp, 0)
    assert along_move < 0.9 and along_move < across_move - 0.05, (along_move, across_move)
    slow = plan_render(still, MotionSpec(type="pan", speed="slow", duration=4))
    assert slow.settings["motion_blur_samples"] == 1


def test_stills_are_read_upright_whatever_their_format(tmp_path: Path) -> None:
    from PIL import Image

    from video_agent.adapters.render import load_rgb

    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :100] = (255, 0, 0)  # red on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    Image.fromarray(img).save(tmp_path / "sideways.jpg", exif=exif.tobytes(), quality=95)
    Image.fromarray(img).save(tmp_path / "still.gif")  # a format OpenCV does not read
    upright = load_rgb(tmp_path / "sideways.jpg")
    assert upright.shape == (200, 100, 3)
    assert upright[20, 50, 0] > 200 and upright[180, 50, 0] < 60  # red now on top
    assert load_rgb(tmp_path / "still.gif").shape == (100, 200, 3)
