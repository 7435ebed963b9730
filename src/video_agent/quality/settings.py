"""Thresholds of the quality gate, each a described setting with a sensible default."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from video_agent.models import (
    SPEC_FPS,
    SPEC_MAX_BITRATE,
    SPEC_MAX_DURATION,
    SPEC_MIN_BITRATE,
    SPEC_MIN_DURATION,
    SPEC_MIN_HEIGHT,
    SPEC_MIN_WIDTH,
)


class QualityError(Exception):
    """A file that cannot be judged at all (not a video, truncated, undecodable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QualitySettings(BaseModel):
    """What a stored clip must satisfy; every failed threshold becomes a readable reason."""

    model_config = ConfigDict(extra="forbid")

    # ----------------------------------------------------------------- technical spec
    target_size: tuple[int, int] = Field(
        default=(SPEC_MIN_WIDTH, SPEC_MIN_HEIGHT),
        description="Width x height every stored clip is brought to (16:9, >= 1024x576).",
    )
    fps: int = Field(default=SPEC_FPS, description="Frame rate every stored clip has.")
    min_bitrate: int = Field(default=SPEC_MIN_BITRATE, description="Lowest video bitrate, bit/s.")
    max_bitrate: int = Field(default=SPEC_MAX_BITRATE, description="Highest video bitrate, bit/s.")
    repair_bitrate: int = Field(
        default=3_500_000, description="Constant bitrate a repaired clip is encoded at, bit/s."
    )
    max_repair_mismatch: float = Field(
        default=4.0, ge=0,
        description="Largest mean absolute difference (0-255) between a sampled frame of a "
        "written repair and the frame fed to its encoder, both as analysis thumbnails.",
    )
    min_duration: float = Field(default=SPEC_MIN_DURATION, description="Shortest clip, seconds.")
    max_duration: float = Field(default=SPEC_MAX_DURATION, description="Longest clip, seconds.")
    duration_tolerance_s: float = Field(
        default=0.25, description="Gap to the planned duration accepted without any repair."
    )
    retime_max: float = Field(
        default=0.10,
        description="Largest relative speed change allowed to close a gap to the plan (0.1=10%).",
    )
    hold_max_s: float = Field(
        default=1.0, description="Longest last-frame hold allowed to lengthen a short clip."
    )
    trim_max_s: float = Field(
        default=1.0, description="Longest tail cut allowed to shorten a long clip."
    )
    retime_short_max: float = Field(
        default=0.40,
        description="Largest declared slow-down (0.4 = 40% slower) that lengthens a short clip "
        "when a last-frame hold would freeze it for longer than max_frozen_s.",
    )
    max_pad_share: float = Field(
        default=0.45,
        description="Largest share of the stored frame that letterbox or pillarbox bars may take.",
    )
    max_upscale: float = Field(
        default=2.0, description="Largest factor a repair may enlarge the picture by.",
    )
    max_pixels: int = Field(
        default=8192 * 4320,
        description="Largest picture (width x height) the gate decodes; larger files fail.",
    )
    max_crop_loss: float = Field(
        default=0.20,
        description="Largest share of the picture a crop to 16:9 may lose; beyond it, pad.",
    )

    # ----------------------------------------------------------------- fidelity
    min_ssim_first: float = Field(
        default=0.5, description="Lowest SSIM of the first frame against the source still."
    )
    min_psnr_first: float = Field(
        default=14.0, description="Lowest PSNR (dB) of the first frame against the source still."
    )
    max_colour_delta_e: float = Field(
        default=3.0,
        description="Largest mean CIEDE2000 difference of the first frame's colours from the "
        "matched window of the still.",
    )
    max_colour_cast: float = Field(
        default=2.0,
        description="Largest shift of the first frame's mean a*b* from the still's window.",
    )
    max_tone_spread_change: float = Field(
        default=0.2,
        description="Largest relative change of the first frame's L* spread (2nd-98th "
        "percentile) from the still's window (a range squeeze or stretch).",
    )
    min_channel_order: float = Field(
        default=-0.02,
        description="Lowest channel-order score: each RGB channel must correlate with the same "
        "channel of the still at least as well as with another one (below 0: swapped).",
    )
    max_colour_matrix: float = Field(
        default=1.2,
        description="Largest RMS change (8-bit levels) that the 3x3 matrix fitted from the "
        "still's colours to the first frame's makes to the still (range and BT.601/BT.709 "
        "matrix mix-ups, channel swaps).",
    )
    min_face_coverage: float = Field(
        default=0.85,
        description="Smallest share of a face (with its headroom) that a frame may show of a "
        "face partly in frame; mid-move, the smallest share of the best-shown face (below it "
        "the subject is lost). Judged on five frames spread over the clip.",
    )
    fail_on_composition: bool = Field(
        default=False,
        description="Composition verdicts: a face that is not small cut by the frame edge on "
        "the first or last frame, or no face whole on either end, always fails the clip. A "
        "subject lost mid-move or at one end only, and a cut small face (under 40 px on the "
        "still's 800 px copy, or under 12% of the frame's height), and a named subject (a "
        "saliency box) cut at an end, are flagged (recorded in the report's checks with "
        "their reason, the clip kept) unless this is set, when they fail too. A move whose "
        "named subjects are whole at neither end and in under half its frames fails. Set "
        "min_face_coverage to 0 to turn the check off.",
    )
    composition_headroom: float = Field(
        default=0.3, description="Headroom above a face counted as part of it (face heights).",
    )
    analysis_width: int = Field(
        default=256, description="Width of the gray frames every metric works on, pixels."
    )

    # ----------------------------------------------------------------- motion and artefacts
    max_jitter_px: float = Field(
        default=0.35,
        description="Largest RMS wobble of frame-to-frame motion around its smooth trend, "
        "in pixels of a 1024-wide frame.",
    )
    max_jump_px: float = Field(
        default=4.0,
        description="Largest single deviation of frame-to-frame motion from its trend, "
        "in pixels of a 1024-wide frame.",
    )
    max_flicker_luma: float = Field(
        default=1.5, description="Largest RMS luma fluctuation between neighbouring frames (0-255)."
    )
    max_flicker_color: float = Field(
        default=1.5, description="Largest RMS colour fluctuation between neighbouring frames."
    )
    max_flicker_channel: float = Field(
        default=2.0,
        description="Largest flicker of one colour channel (R, G or B), in per cent of its "
                    "level: how far a frame departs from the middle of its two neighbours "
                    "(90th percentile over the clip). Good clips measure up to 0.5; one "
                    "channel raised by 5 % every other frame or on a random half of the "
                    "frames measures 2.5-6 (bench/flicker.py).",
    )
    max_flash_channel: float = Field(
        default=10.0,
        description="Largest departure of a single frame's colour channel from the middle of "
                    "its two neighbours, in per cent of the channel's level (a one-frame "
                    "colour flash; good clips measure up to 1).",
    )
    frozen_diff: float = Field(
        default=0.3, description="Mean absolute gray difference below which two frames are equal."
    )
    max_frozen_s: float = Field(
        default=0.5, description="Longest run of identical frames in a moving shot, seconds."
    )
    black_luma: float = Field(
        default=20.0, description="Mean luma (0-255) below which a frame is black."
    )
    blank_std: float = Field(
        default=2.0, description="Luma standard deviation below which a frame is blank."
    )
    max_black_frames: int = Field(default=0, description="Black or blank frames allowed.")
    cut_correlation: float = Field(
        default=0.5,
        description="Structural correlation of neighbouring frames below which a cut is seen.",
    )
    cut_colour_distance: float = Field(
        default=0.3, ge=0, le=1,
        description="Colour-histogram (Bhattacharyya) distance of neighbouring frames above "
                    "which a cut is seen, even when the picture's structure stays alike, if "
                    "it lasts: no frame of the three after it is that close to one of the "
                    "three before (a flicker, a flash or aliasing stripes come back).",
    )
    max_cuts: int = Field(default=0, description="Abrupt cuts allowed in one clip.")
    max_drift_luma: float = Field(
        default=45.0, description="Largest mean luma change from first to last frame (0-255)."
    )
    max_drift_color: float = Field(
        default=30.0, description="Largest mean colour (a*b*) change from first to last frame."
    )
