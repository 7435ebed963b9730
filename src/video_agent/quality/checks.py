"""The gate's judgement: every check of a clip as a property, a metric, a threshold and a verdict.

Frame checks are judged against the source still when there is one: a frame is black or blank
only when it is darker or flatter than any window of the still the camera could show, the
lighting drift allowed is the drift between the windows the first and last frames show, and
luma and colour flicker are what is left once the brightness and colour of the windows the
frames follow are taken out (``windows``). Colour is compared on the matched window aligned on
the first frame (CIEDE2000, colour cast, channel order, colour matrix); composition over the
whole move is ``composition``'s.

Thread safety: pure functions over numpy arrays; safe from many threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from video_agent import cpu_pool
from video_agent.models import ProbeInfo, QualityCheck, QualityProperty
from video_agent.quality import composition
from video_agent.quality import metrics as m
from video_agent.quality.colour import colour_matrix
from video_agent.quality.frames import AnalysisFrames
from video_agent.quality.settings import QualitySettings
from video_agent.quality.windows import (
    WindowTrack,
    aligned_window,
    following_flicker,
    window_colour_means,
    window_means,
)


def check(name: str, prop: QualityProperty, value: float, threshold: float | None, *,
          failed: bool, reason: str = "", unit: str = "", at_least: bool = False,
          expected: str | None = None) -> QualityCheck:
    """One check; a failed check carries its reason prefixed with the property.

    ``expected`` states the passing condition; by default the value must stay at or under the
    threshold (``at_least``: reach it)."""
    if expected is None:
        expected = "" if threshold is None else (
            f"{'>=' if at_least else '<='} {threshold:g}{f' {unit}' if unit else ''}")
    return QualityCheck(
        name=name, property=prop, value=round(float(value), 4), unit=unit,
        threshold=threshold, expected=expected, status="failed" if failed else "passed",
        action="rejected" if failed else "", reason=f"{prop}: {reason}" if failed else "",
    )


def failures(checks: list[QualityCheck]) -> list[str]:
    """The reasons of the failed checks, in order."""
    return [c.reason for c in checks if c.status == "failed"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def measure_checks(frames: AnalysisFrames, source_gray: np.ndarray | None,
                   settings: QualitySettings, *, moving: bool = True,
                   source_rgb: np.ndarray | None = None, facts: StillFacts | None = None,
                   focus_points: Sequence[str] = ()
                   ) -> tuple[dict[str, float], list[QualityCheck]]:
    """Every content metric of a decoded clip and the check it feeds.

    Args:
        frames: the clip decoded once into analysis frames (any count, one included).
        source_gray: the still the clip was made from (gray), or None to judge without it.
        settings: thresholds.
        moving: False for a planned static shot, where identical frames are expected.
        source_rgb: the same still in colour (RGB), for the colour check.
        facts: what is found on ``source_gray`` once, kept for judging another clip of the
            same still (a repair of this clip); None finds it afresh.
        focus_points: the plan's focus words; the subjects among them are judged with the
            faces (``composition``).
    """
    s = settings
    gray, times, n = frames.gray, frames.times, frames.count
    steps_t = np.diff(times) if n > 1 else np.zeros(0)
    fps = 1 / float(np.median(steps_t)) if len(steps_t) and np.median(steps_t) > 0 else 24.0
    checks: list[QualityCheck] = []
    out: dict[str, float] = {"frames_decoded": float(n)}
    if n == 0:
        return out, checks
    # Tracking, the largest share, runs in helper threads while the rest is measured here.
    tracked = m.track_pairs(gray, cpu_pool.helpers(), cpu_pool.cpu_workers())

    fid = None
    if source_gray is not None and min(source_gray.shape) >= 8:
        fid = m.fidelity(gray[0], source_gray)
    last_match: list[m.Fidelity] = []

    def fid_last() -> m.Fidelity:
        """The last frame's window on the still, matched once and only when needed."""
        assert fid is not None and source_gray is not None
        if not last_match:
            last_match.append(m.fidelity(gray[-1], source_gray) if n > 1 else fid)
        return last_match[0]

    tracks: list[WindowTrack] = []

    def track() -> WindowTrack:
        """Every frame's window on the still, sampled once and only when needed."""
        assert fid is not None and source_gray is not None
        if not tracks:
            tracks.append(WindowTrack(gray, source_gray, {0: lambda: fid, n - 1: fid_last}))
        return tracks[0]

    means, stds = m.frame_stats(gray)
    # What the still lets a frame be: the darkest and flattest window a camera could show.
    if fid is not None and source_gray is not None:
        wx, wy = fid.window[2] - fid.window[0], fid.window[3] - fid.window[1]
        darkest, _, flattest = m.window_luma_range(source_gray, (wx, wy))
        out["source_darkest_luma"] = round(darkest, 3)
        out["source_flattest_std"] = round(flattest, 3)
        black = (means < s.black_luma) & (means < darkest * 0.5)
        blank = (stds < s.blank_std) & (stds < flattest * 0.5) & ~black
    else:
        black = means < s.black_luma
        blank = (stds < s.blank_std) & ~black
    out["black_frames"] = float(black.sum())
    out["blank_frames"] = float(blank.sum())
    too_many = black.sum() + blank.sum() > s.max_black_frames
    for kind, mask in (("black", black), ("blank", blank)):
        idx = np.flatnonzero(mask)
        limit = "darker than the still allows" if kind == "black" else "flatter than the still"
        checks.append(check(
            f"{kind}_frames", "black", len(idx), s.max_black_frames, unit="frames",
            failed=bool(too_many and len(idx)),
            reason=f"{_plural(len(idx), kind + ' frame')} at {m.runs_text(idx, times)}"
                   + (f" ({limit})" if fid is not None else "")))

    dark = black | blank
    correlation = m.structural_correlation(gray)
    pair_dark = dark[1:] | dark[:-1] if n > 1 else np.zeros(0, bool)
    jumps, lasting = m.colour_jumps(frames.color)
    structural_cut = (correlation < s.cut_correlation) & ~pair_dark
    # A colour cut lasts: no frame after it has a frame before's colours (a flicker comes back).
    colour_cut = ((jumps > s.cut_colour_distance) & (lasting > s.cut_colour_distance)
                  & ~pair_dark & ~structural_cut)
    cut = structural_cut | colour_cut
    out["cuts"] = float(cut.sum())
    out["max_colour_jump"] = round(float(jumps[~pair_dark].max()), 4) if (~pair_dark).any() else 0.0
    out["min_correlation"] = (
        round(float(correlation[~pair_dark].min()), 4) if (~pair_dark).any() else 1.0
    )
    cut_reasons = []
    explained: tuple[tuple[np.ndarray, Callable[[np.ndarray], str]], ...] = (
            (structural_cut, lambda i: f"structural correlation "
                                       f"{correlation[i].min():.2f} < {s.cut_correlation}"),
            (colour_cut, lambda i: f"colour histogram jump {jumps[i].max():.2f} > "
                                   f"{s.cut_colour_distance}, lasting "
                                   f"{lasting[i].max():.2f}"))
    for mask, why in explained:
        if mask.any():
            idx = np.flatnonzero(mask) + 1
            cut_reasons.append(f"{_plural(len(idx), 'abrupt cut')} at "
                               f"{m.runs_text(idx, times)} ({why(idx - 1)})")
    checks.append(check("cuts", "cut", cut.sum(), s.max_cuts, unit="cuts",
                        failed=bool(cut.sum() > s.max_cuts), reason="; ".join(cut_reasons)))

    skip = pair_dark | cut
    motion = m.motion(gray, times, frames.scale, skip=skip, steps=tracked())
    out["jitter_px"] = round(motion.jitter_px, 4)
    out["max_jump_px"] = round(motion.max_jump_px, 4)
    out["speed_px"] = round(motion.speed_px, 4)
    out["tracked"] = round(motion.tracked, 4)
    checks.append(check(
        "jitter_px", "jitter", motion.jitter_px, s.max_jitter_px, unit="px",
        failed=motion.jitter_px > s.max_jitter_px,
        reason=f"motion jitter {motion.jitter_px:.2f} px > {s.max_jitter_px} px around the "
               "smooth camera path"))
    checks.append(check(
        "max_jump_px", "jitter", motion.max_jump_px, s.max_jump_px, unit="px",
        failed=motion.max_jump_px > s.max_jump_px,
        reason=f"motion jump {motion.max_jump_px:.1f} px > {s.max_jump_px} px at "
               f"{motion.max_jump_at:.1f} s"))

    diffs = m.frame_differences(gray)
    still = diffs < s.frozen_diff
    steps = motion.steps
    if len(steps):
        still &= ~(np.nan_to_num(steps, nan=0.0) > 0.1)
    still &= ~pair_dark
    still = m.without_drift(gray, still, s.frozen_diff)
    run, start = m.longest_run(still)
    frozen_frames = run + 1 if run else 0
    out["frozen_max_run"] = float(frozen_frames)
    out["frozen_max_s"] = round(frozen_frames / fps, 3)
    checks.append(check(
        "frozen_max_s", "frozen", frozen_frames / fps, s.max_frozen_s, unit="s",
        expected=None if moving else "any (a static shot holds still)",
        failed=moving and frozen_frames / fps > s.max_frozen_s,
        reason=f"frozen for {frozen_frames} frames ({frozen_frames / fps:.1f} s) at "
               f"{times[start]:.1f}-{times[min(start + run, n - 1)]:.1f} s"))

    cut_at = np.zeros(n, bool)
    cut_at[1:] |= cut
    cut_at[:-1] |= cut
    near_cut = np.convolve(cut_at, np.ones(5), "same")[:n] > 0
    keep = ~(dark | near_cut)
    lab = m.lab_means(frames.color)
    out["flicker_luma"] = round(m.flicker(means, keep), 4)
    if (fid is not None and source_gray is not None and n >= 5
            and out["flicker_luma"] > s.max_flicker_luma / 2):
        # Brightness that follows the camera's window over the still is the still's, not flicker.
        out["flicker_luma_raw"] = out["flicker_luma"]
        expected = window_means(source_gray, track().path())
        out["flicker_luma"] = round(min(out["flicker_luma"],
                                        following_flicker(means, expected, keep)), 4)
    out["flicker_color"] = round(m.flicker(lab[:, 1:], keep), 4)
    if (fid is not None and source_rgb is not None and n >= 5
            and out["flicker_color"] > s.max_flicker_color / 2):
        # Colour that follows the camera's window over the still (a pan from sky to field).
        out["flicker_color_raw"] = out["flicker_color"]
        expected_ab = window_colour_means(source_rgb, track().path())
        out["flicker_color"] = round(min(out["flicker_color"],
                                         following_flicker(lab[:, 1:], expected_ab, keep)), 4)
    checks.append(_channel_flicker_check(
        frames, keep, source_rgb,
        track if fid is not None and source_gray is not None else None, s, out))
    checks.append(check(
        "flicker_luma", "flicker", out["flicker_luma"], s.max_flicker_luma,
        unit="luma RMS", failed=out["flicker_luma"] > s.max_flicker_luma,
        reason=f"luma flicker {out['flicker_luma']:.2f} > {s.max_flicker_luma}"))
    checks.append(check(
        "flicker_color", "flicker", out["flicker_color"], s.max_flicker_color,
        unit="a*b* RMS", failed=out["flicker_color"] > s.max_flicker_color,
        reason=f"colour flicker {out['flicker_color']:.2f} > {s.max_flicker_color}"))

    k = min(3, n)
    head, tail = slice(0, k), slice(n - k, n)
    drift = float(means[tail].mean() - means[head].mean())
    still_drift = 0.0
    if fid is not None and source_gray is not None and abs(drift) > s.max_drift_luma / 3:
        # The still itself gets darker or brighter from the first window to the last one.
        still_drift = float(m.crop_fraction(source_gray, fid_last().window).mean()
                            - m.crop_fraction(source_gray, fid.window).mean())
    out["drift_luma"] = round(abs(drift - still_drift), 4)
    drift_ab = lab[tail, 1:].mean(0) - lab[head, 1:].mean(0)
    if (fid is not None and source_rgb is not None
            and float(np.linalg.norm(drift_ab)) > s.max_drift_color / 3):
        # The still's own colour changes from the first window to the last one.
        ends = window_colour_means(source_rgb, np.array([fid.window, fid_last().window]))
        drift_ab = drift_ab - (ends[1] - ends[0])
    out["drift_color"] = round(float(np.linalg.norm(drift_ab)), 4)
    checks.append(check(
        "drift_luma", "drift", out["drift_luma"], s.max_drift_luma, unit="luma",
        failed=out["drift_luma"] > s.max_drift_luma,
        reason=f"lighting drift {out['drift_luma']:.1f} > {s.max_drift_luma} from first to "
               "last frame" + (" beyond what the still shows" if fid is not None else "")))
    checks.append(check(
        "drift_color", "drift", out["drift_color"], s.max_drift_color, unit="a*b*",
        failed=out["drift_color"] > s.max_drift_color,
        reason=f"colour drift {out['drift_color']:.1f} > {s.max_drift_color} from first to "
               "last frame" + (" beyond what the still shows" if fid is not None else "")))

    if fid is not None and source_gray is not None:
        out["ssim_first"] = round(fid.ssim, 4)
        out["psnr_first"] = round(fid.psnr, 3)
        out["fidelity_zoom"] = round(fid.zoom, 4)
        checks.append(check(
            "ssim_first", "fidelity", fid.ssim, s.min_ssim_first, at_least=True,
            failed=fid.ssim < s.min_ssim_first,
            reason=f"first frame SSIM {fid.ssim:.2f} < {s.min_ssim_first} vs source image"))
        checks.append(check(
            "psnr_first", "fidelity", fid.psnr, s.min_psnr_first, unit="dB", at_least=True,
            failed=fid.psnr < s.min_psnr_first,
            reason=f"first frame PSNR {fid.psnr:.1f} dB < {s.min_psnr_first} dB vs source image"))
        if source_rgb is not None:
            checks += _colour_checks(frames, fid, source_rgb, s, out)
        checks += _composition_checks(frames, source_gray, track(), s, out,
                                      facts or StillFacts(), focus_points)
    return out, checks


def _composition_checks(frames: AnalysisFrames, source_gray: np.ndarray, track: WindowTrack,
                        s: QualitySettings, out: dict[str, float], facts: StillFacts,
                        focus_points: Sequence[str]) -> list[QualityCheck]:
    """Faces and named subjects of the still cut by the frame edge or lost over the move
    (``composition``)."""
    faces = facts.faces(source_gray)
    out["faces_in_source"] = float(len(faces))
    checks = (composition.composition_checks(track, frames.times, faces, s, out)
              if faces else [])
    named = facts.named(source_gray, focus_points)
    if named is not None:
        out["named_subjects_in_source"] = float(len(named))
        if named:
            checks += composition.named_checks(track, frames.times, named, faces, s,
                                              out)
    return checks


@dataclass
class StillFacts:
    """What the gate finds on a source still, found once per still and judged clip pair."""

    _faces: list[composition.Face] | None = None
    _named: dict[tuple[str, ...], list[composition.Named]] = field(default_factory=dict)

    def faces(self, source_gray: np.ndarray) -> list[composition.Face]:
        """The still's confirmed faces (``composition.find_faces``), searched once."""
        if self._faces is None:
            self._faces = list(composition.find_faces(source_gray))
        return self._faces

    def named(self, source_gray: np.ndarray, names: Sequence[str]
              ) -> list[composition.Named] | None:
        """The still's named subjects (``composition.find_named``), searched once per list of
        names; None when no name is a subject word (nothing searched, nothing reported)."""
        key = tuple(names)
        if not composition.names_a_subject(key):
            return None
        if key not in self._named:
            self._named[key] = composition.find_named(source_gray, key)
        return self._named[key]


CHANNELS = ("red", "green", "blue")


def _channel_flicker_check(frames: AnalysisFrames, keep: np.ndarray,
                           source_rgb: np.ndarray | None, track: Callable[[], WindowTrack] | None,
                           s: QualitySettings, out: dict[str, float]) -> QualityCheck:
    """Flicker of one colour channel (red up a few per cent every other frame) or a single
    frame flashing in one channel, as a share of the channel's level; judged against the
    still, what the windows the frames show explain (a gain and an offset per channel) is
    taken out first."""
    means = m.rgb_means(frames.color)
    level = means[keep].mean(axis=0) if keep.any() else None
    shares = m.channel_flicker(means, keep)
    peaks = m.channel_flicker(means, keep, quantile=1.0)
    if (source_rgb is not None and track is not None and len(means) >= 5
            and (shares.max() > s.max_flicker_channel / 2
                 or peaks.max() > s.max_flash_channel / 2)):
        out["flicker_channel_raw"] = round(float(shares.max()), 3)
        left = means - _fitted(means, _window_rgb_means(source_rgb, track().path()), keep)
        shares = np.minimum(shares, m.channel_flicker(left, keep, level=level))
        peaks = np.minimum(peaks, m.channel_flicker(left, keep, level=level, quantile=1.0))
    worst, flash = int(np.argmax(shares)), int(np.argmax(peaks))
    value, peak = round(float(shares[worst]), 3), round(float(peaks[flash]), 3)
    out["flicker_channel"], out["flicker_channel_peak"] = value, peak
    if value <= s.max_flicker_channel and peak > s.max_flash_channel:
        reason = (f"colour flash on the {CHANNELS[flash]} channel: a frame departs by "
                  f"{peak:.1f} % of its level from its neighbours > {s.max_flash_channel} %")
    else:
        reason = (f"colour flicker on the {CHANNELS[worst]} channel: it moves by {value:.1f} % "
                  f"of its level from frame to frame > {s.max_flicker_channel} %")
    return check("flicker_channel", "flicker", value, s.max_flicker_channel, unit="%",
                 failed=value > s.max_flicker_channel or peak > s.max_flash_channel,
                 reason=reason)


def _window_rgb_means(source_rgb: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """``(n, 3)`` mean R, G, B of the still inside each window."""
    return np.stack([window_means(np.ascontiguousarray(source_rgb[:, :, c]), windows)
                     for c in range(3)], axis=1)


def _fitted(means: np.ndarray, expected: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Each column of ``expected`` mapped onto ``means`` by a least-squares gain and offset."""
    use = keep if keep.sum() >= 3 else np.ones(len(means), bool)
    fitted = np.empty_like(means, dtype=np.float64)
    for c in range(means.shape[1]):
        x, y = expected[use, c], means[use, c]
        gain, offset = np.polyfit(x, y, 1) if float(np.std(x)) > 1e-6 else (0.0, float(y.mean()))
        fitted[:, c] = gain * expected[:, c] + offset
    return fitted


def _colour_checks(frames: AnalysisFrames, fid: m.Fidelity, source_rgb: np.ndarray,
                   s: QualitySettings, out: dict[str, float]) -> list[QualityCheck]:
    thumb = m.crop_fraction(frames.color[0], fid.content)
    window = aligned_window(frames.gray[0], fid.content, source_rgb, fid.window)
    colour = m.colour_fidelity(thumb, window)
    _, change = colour_matrix(thumb, cv2.resize(window, thumb.shape[1::-1],
                                                interpolation=cv2.INTER_AREA))
    out["colour_matrix"] = round(change, 4)
    out["colour_delta_e"] = round(colour.delta_e, 3)
    out["colour_cast"] = round(colour.cast, 3)
    out["colour_channel_order"] = round(colour.channel_order, 4)
    out["colour_tone_spread"] = round(colour.tone_spread, 4)
    spread_off = abs(colour.tone_spread - 1)
    return [
        check("colour_tone_spread", "colour", colour.tone_spread, s.max_tone_spread_change,
              unit="x", expected=f"{1 - s.max_tone_spread_change:g}-"
              f"{1 + s.max_tone_spread_change:g}x the still's tonal range",
              failed=spread_off > s.max_tone_spread_change,
              reason=f"tonal range {colour.tone_spread:.2f}x the still's (off by more than "
                     f"{s.max_tone_spread_change:.0%}: "
                     + ("squeezed, as full range shown as limited)" if colour.tone_spread < 1
                        else "stretched, as limited range shown as full)")),
        check("colour_delta_e", "colour", colour.delta_e, s.max_colour_delta_e, unit="CIEDE2000",
              failed=colour.delta_e > s.max_colour_delta_e,
              reason=f"first frame colours differ from the still by {colour.delta_e:.1f} "
                     f"CIEDE2000 > {s.max_colour_delta_e}"),
        check("colour_cast", "colour", colour.cast, s.max_colour_cast, unit="a*b*",
              failed=colour.cast > s.max_colour_cast,
              reason=f"colour cast of {colour.cast:.1f} a*b* > {s.max_colour_cast} vs the still"),
        check("colour_channel_order", "colour", colour.channel_order, s.min_channel_order,
              at_least=True, failed=colour.channel_order < s.min_channel_order,
              reason=f"RGB channels do not follow the still's (order score "
                     f"{colour.channel_order:.2f} < {s.min_channel_order}: swapped channels)"),
        check("colour_matrix", "colour", out["colour_matrix"], s.max_colour_matrix,
              unit="levels", failed=out["colour_matrix"] > s.max_colour_matrix,
              reason=f"colours are a mixed or rescaled copy of the still's (the fitted colour "
                     f"matrix moves them by {out['colour_matrix']:.1f} levels > "
                     f"{s.max_colour_matrix}: a range or BT.601/BT.709 matrix mix-up)"),
    ]


def spec_checks(info: ProbeInfo, settings: QualitySettings, target: tuple[int, int]
                ) -> list[QualityCheck]:
    """Where a probed clip meets or misses the technical spec, one check per property."""
    s = settings
    duration_ok = s.min_duration - 0.5 / s.fps <= info.duration <= s.max_duration + 0.5 / s.fps
    return [
        check("size", "resolution/aspect", info.width * info.height, target[0] * target[1],
              unit="pixels", expected=f"= {target[0]}x{target[1]}",
              failed=(info.width, info.height) != target,
              reason=f"size {info.width}x{info.height} != {target[0]}x{target[1]}"),
        check("fps", "frame rate", info.fps, s.fps, unit="fps", expected=f"= {s.fps:g} fps",
              failed=abs(info.fps - s.fps) > 0.01,
              reason=f"fps {info.fps:g} != {s.fps}"),
        check("codec", "codec", 0.0 if info.codec == "h264" and info.pix_fmt == "yuv420p" else 1.0,
              0.0, expected="H.264, yuv420p",
              failed=info.codec != "h264" or info.pix_fmt != "yuv420p",
              reason=f"codec {info.codec}/{info.pix_fmt} != h264/yuv420p"),
        check("bitrate", "bitrate", info.bitrate / 1e6, s.max_bitrate / 1e6
              if info.bitrate > s.max_bitrate else s.min_bitrate / 1e6, unit="Mbps",
              expected=f"{s.min_bitrate / 1e6:g}-{s.max_bitrate / 1e6:g} Mbps",
              failed=not s.min_bitrate <= info.bitrate <= s.max_bitrate,
              reason=f"bitrate {info.bitrate / 1e6:.2f} Mbps outside "
                     f"{s.min_bitrate / 1e6:g}-{s.max_bitrate / 1e6:g} Mbps"),
        check("duration", "duration", info.duration, s.max_duration
              if info.duration > s.max_duration else s.min_duration, unit="s",
              expected=f"{s.min_duration:g}-{s.max_duration:g} s",
              failed=not duration_ok,
              reason=f"duration {info.duration:.2f} s outside "
                     f"{s.min_duration:g}-{s.max_duration:g} s"),
        check("audio_streams", "audio", info.audio_streams, 0, unit="streams",
              expected="no audio stream",
              failed=bool(info.audio_streams),
              reason=f"{info.audio_streams} audio stream(s)"),
        check("moov_front", "container", 0.0 if info.moov_front is False else 1.0, 1.0,
              expected="moov before the media (faststart)",
              failed=info.moov_front is False, reason="moov atom after the media data"),
    ]
