"""The quality gate: probe, measure, repair and judge one clip.

Thread safety: safe to assess several clips at once from different threads; every decoder,
encoder and OpenCV object is made per call (see ``frames``, ``probe``, ``repair``).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import cv2
import numpy as np

from video_agent.models import ProbeInfo, QualityReport, VideoParams
from video_agent.quality import metrics as m
from video_agent.quality.frames import AnalysisFrames
from video_agent.quality.probe import probe
from video_agent.quality.repair import plan_repair
from video_agent.quality.settings import QualityError, QualitySettings
from video_agent.quality.transcode import one_pass


def read_gray(path: str | Path) -> np.ndarray:
    """Read a still as 8-bit gray (any format OpenCV reads, any path).

    Raises:
        QualityError: the file is missing or not an image.
    """
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise QualityError(f"source image {path}: {exc}") from exc
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None:
        raise QualityError(f"source image {path}: not a readable image")
    return image


def measure(frames: AnalysisFrames, source_gray: np.ndarray | None,
            settings: QualitySettings, *, moving: bool = True
            ) -> tuple[dict[str, float], list[str]]:
    """All content metrics of a decoded clip, and a reason for each failed threshold.

    Args:
        frames: the clip decoded once into analysis frames.
        source_gray: the still the clip was made from (gray), or None to skip fidelity.
        settings: thresholds.
        moving: False for a planned static shot, where identical frames are expected.
    """
    s = settings
    gray, times, n = frames.gray, frames.times, frames.count
    fps = 1 / float(np.median(np.diff(times))) if n > 1 and np.median(np.diff(times)) > 0 else 24.0
    reasons: list[str] = []
    out: dict[str, float] = {"frames_decoded": float(n)}

    means = gray.reshape(n, -1).mean(axis=1)
    stds = gray.reshape(n, -1).std(axis=1)
    black = means < s.black_luma
    blank = (stds < s.blank_std) & ~black
    out["black_frames"] = float(black.sum())
    out["blank_frames"] = float(blank.sum())
    if black.sum() + blank.sum() > s.max_black_frames:
        for kind, mask in (("black", black), ("blank", blank)):
            if mask.any():
                idx = np.flatnonzero(mask)
                reasons.append(f"{len(idx)} {kind} frame{'s' if len(idx) > 1 else ''} at "
                               f"{m.runs_text(idx, times)}")

    dark = black | blank
    correlation = m.structural_correlation(gray)
    pair_dark = dark[1:] | dark[:-1] if n > 1 else np.zeros(0, bool)
    jumps = m.colour_jumps(frames.color)
    structural_cut = (correlation < s.cut_correlation) & ~pair_dark
    colour_cut = (jumps > s.cut_colour_distance) & ~pair_dark & ~structural_cut
    cut = structural_cut | colour_cut
    out["cuts"] = float(cut.sum())
    out["max_colour_jump"] = round(float(jumps[~pair_dark].max()), 4) if (~pair_dark).any() else 0.0
    out["min_correlation"] = (
        round(float(correlation[~pair_dark].min()), 4) if (~pair_dark).any() else 1.0
    )
    if cut.sum() > s.max_cuts:
        for mask, why in (
                (structural_cut, lambda i: f"structural correlation "
                                           f"{correlation[i].min():.2f} < {s.cut_correlation}"),
                (colour_cut, lambda i: f"colour histogram jump {jumps[i].max():.2f} > "
                                       f"{s.cut_colour_distance}")):
            if mask.any():
                idx = np.flatnonzero(mask) + 1
                reasons.append(f"{len(idx)} abrupt cut{'s' if len(idx) > 1 else ''} at "
                               f"{m.runs_text(idx, times)} ({why(idx - 1)})")

    skip = pair_dark | cut
    motion = m.motion(gray, times, frames.scale, skip=skip)
    out["jitter_px"] = round(motion.jitter_px, 4)
    out["max_jump_px"] = round(motion.max_jump_px, 4)
    out["speed_px"] = round(motion.speed_px, 4)
    out["tracked"] = round(motion.tracked, 4)
    if motion.jitter_px > s.max_jitter_px:
        reasons.append(f"motion jitter {motion.jitter_px:.2f} px > {s.max_jitter_px} px "
                       "around the smooth camera path")
    if motion.max_jump_px > s.max_jump_px:
        reasons.append(f"motion jump {motion.max_jump_px:.1f} px > {s.max_jump_px} px at "
                       f"{motion.max_jump_at:.1f} s")

    diffs = m.frame_differences(gray)
    still = diffs < s.frozen_diff
    steps = motion.steps
    if len(steps):
        still &= ~(np.nan_to_num(steps, nan=0.0) > 0.1)
    still &= ~pair_dark
    run, start = m.longest_run(still)
    frozen_frames = run + 1 if run else 0
    out["frozen_max_run"] = float(frozen_frames)
    out["frozen_max_s"] = round(frozen_frames / fps, 3)
    if moving and frozen_frames / fps > s.max_frozen_s:
        reasons.append(f"frozen for {frozen_frames} frames ({frozen_frames / fps:.1f} s) at "
                       f"{times[start]:.1f}-{times[start + run]:.1f} s")

    near_cut = np.convolve(np.r_[cut, False] | np.r_[False, cut], np.ones(5), "same") > 0
    keep = ~(dark | near_cut)
    lab = m.lab_means(frames.color)
    out["flicker_luma"] = round(m.flicker(means, keep), 4)
    out["flicker_color"] = round(m.flicker(lab[:, 1:], keep), 4)
    if out["flicker_luma"] > s.max_flicker_luma:
        reasons.append(f"luma flicker {out['flicker_luma']:.2f} > {s.max_flicker_luma}")
    if out["flicker_color"] > s.max_flicker_color:
        reasons.append(f"colour flicker {out['flicker_color']:.2f} > {s.max_flicker_color}")

    k = min(3, n)
    head, tail = slice(0, k), slice(n - k, n)
    out["drift_luma"] = round(float(abs(means[tail].mean() - means[head].mean())), 4)
    out["drift_color"] = round(float(np.linalg.norm(lab[tail, 1:].mean(0) - lab[head, 1:].mean(0))),
                               4)
    if out["drift_luma"] > s.max_drift_luma:
        reasons.append(f"lighting drift {out['drift_luma']:.1f} > {s.max_drift_luma} "
                       "from first to last frame")
    if out["drift_color"] > s.max_drift_color:
        reasons.append(f"colour drift {out['drift_color']:.1f} > {s.max_drift_color} "
                       "from first to last frame")

    if source_gray is not None and n:
        fid = m.fidelity(gray[0], source_gray)
        out["ssim_first"] = round(fid.ssim, 4)
        out["psnr_first"] = round(fid.psnr, 3)
        out["fidelity_zoom"] = round(fid.zoom, 4)
        if fid.ssim < s.min_ssim_first:
            reasons.append(f"first frame SSIM {fid.ssim:.2f} < {s.min_ssim_first} vs source image")
        if fid.psnr < s.min_psnr_first:
            reasons.append(f"first frame PSNR {fid.psnr:.1f} dB < {s.min_psnr_first} dB "
                           "vs source image")
    return out, reasons


def spec_reasons(info: ProbeInfo, settings: QualitySettings, target: tuple[int, int]
                 ) -> list[str]:
    """Where a probed clip misses the technical spec (empty when it meets it)."""
    s = settings
    reasons = []
    if (info.width, info.height) != target:
        reasons.append(f"size {info.width}x{info.height} != {target[0]}x{target[1]}")
    if abs(info.fps - s.fps) > 0.01:
        reasons.append(f"fps {info.fps:g} != {s.fps}")
    if info.codec != "h264" or info.pix_fmt != "yuv420p":
        reasons.append(f"codec {info.codec}/{info.pix_fmt} != h264/yuv420p")
    if not s.min_bitrate <= info.bitrate <= s.max_bitrate:
        reasons.append(f"bitrate {info.bitrate / 1e6:.2f} Mbps outside "
                       f"{s.min_bitrate / 1e6:g}-{s.max_bitrate / 1e6:g} Mbps")
    if not s.min_duration - 0.5 / s.fps <= info.duration <= s.max_duration + 0.5 / s.fps:
        reasons.append(f"duration {info.duration:.2f} s outside "
                       f"{s.min_duration:g}-{s.max_duration:g} s")
    if info.audio_streams:
        reasons.append(f"{info.audio_streams} audio stream(s)")
    if info.moov_front is False:
        reasons.append("moov atom after the media data")
    return reasons


def frame_series(gray: np.ndarray, points: int = 120) -> dict[str, list[float]]:
    """Per-frame brightness and motion, downsampled to at most ``points`` values each (motion
    keeps each span's largest change, so a one-frame glitch survives the downsampling)."""
    if gray.shape[0] == 0:
        return {}
    brightness = gray.reshape(gray.shape[0], -1).mean(axis=1)
    change = np.concatenate([[0.0], m.frame_differences(gray)])
    spans = np.array_split(np.arange(len(brightness)), min(points, len(brightness)))
    return {"brightness": [round(float(brightness[i].mean()), 2) for i in spans],
            "motion": [round(float(change[i].max()), 2) for i in spans]}


def _repaired_name(path: Path, work_dir: Path) -> Path:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return work_dir / f"{path.stem}.repaired-{digest}.mp4"


def assess_clip(path: str | Path, source_image: str | Path | None, params: VideoParams, *,
                settings: QualitySettings | None = None, work_dir: str | Path,
                target_size: tuple[int, int] = (1024, 576)) -> QualityReport:
    """Probe, measure, repair if needed, and judge one clip. Never raises for a bad clip.

    Args:
        path: the clip as delivered.
        source_image: the still the clip was made from; None skips the fidelity check.
        params: the plan (``params.motion.duration`` is the planned length).
        settings: thresholds (defaults when None).
        work_dir: where a repaired clip is written (a new file; the input is never changed).
        target_size: size every stored clip must have.

    Returns:
        ``pass`` (``path`` is the input), ``repaired`` (``path`` is the new file, the original
        probe kept) or ``fail`` with readable reasons; metrics always filled for a decodable clip.
    """
    started = time.perf_counter()
    s = settings or QualitySettings()
    path = Path(path)

    def report(verdict: str, **kw: object) -> QualityReport:
        return QualityReport(verdict=verdict, elapsed_s=round(time.perf_counter() - started, 3),
                             **kw)  # type: ignore[arg-type]

    try:
        info = probe(path)
    except QualityError as exc:
        return report("fail", reasons=[exc.reason], path=str(path))

    plan = plan_repair(info, params.motion.duration, s, target_size)
    destination = _repaired_name(path, Path(work_dir))
    partial = destination.with_name(destination.name + ".partial")
    repairing = plan.needed and not plan.refusals
    if repairing:
        destination.parent.mkdir(parents=True, exist_ok=True)
    what = "repair failed" if repairing else "decoding failed"
    try:  # one decode: analysis frames, and the repair written as they stream by
        done = one_pass(path, plan if repairing else None, s, partial if repairing else None)
    except (QualityError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, QualityError) else str(exc)
        return report("fail", reasons=[f"{what}: {reason}"], probe=info,
                      repairs=plan.steps, path=str(path))
    except Exception as exc:  # PyAV raises many error types; the gate must not.
        partial.unlink(missing_ok=True)
        return report("fail", reasons=[f"{what}: {type(exc).__name__}: {exc}"],
                      probe=info, repairs=plan.steps, path=str(path))
    frames = done.frames
    if frames.count == 0:
        return report("fail", reasons=[frames.error or "no frame decoded"], probe=info,
                      path=str(path))
    source_gray = None
    reasons: list[str] = []
    if source_image is not None:
        try:
            source_gray = read_gray(source_image)
        except QualityError as exc:
            reasons.append(exc.reason)
    measure_started = time.perf_counter()
    values, content = measure(frames, source_gray, s, moving=params.motion.type != "static")
    values["measure_s"] = round(time.perf_counter() - measure_started, 3)
    curves = frame_series(frames.gray)
    reasons += content
    if frames.error:
        reasons.insert(0, frames.error)
    elif info.frame_count and abs(frames.count - info.frame_count) > 1:
        reasons.insert(0, f"decoded {frames.count} of {info.frame_count} frames")

    reasons += plan.refusals
    if reasons:
        partial.unlink(missing_ok=True)
        return report("fail", reasons=reasons, metrics=values, probe=info, path=str(path),
                      series=curves)
    if not plan.needed:
        return report("pass", metrics=values, probe=info, path=str(path),
                      series=curves)

    try:  # the pass knows what it wrote; one probe confirms the container agrees
        partial.replace(destination)
        fixed = probe(destination)
    except (QualityError, OSError) as exc:
        partial.unlink(missing_ok=True)
        reason = exc.reason if isinstance(exc, QualityError) else str(exc)
        return report("fail", reasons=[f"repair failed: {reason}"], metrics=values, probe=info,
                      repairs=plan.steps, path=str(path), series=curves)
    if plan.encode and fixed.frame_count != done.frames_written:
        return report("fail", reasons=[f"repair wrote {done.frames_written} frames, the file "
                                       f"holds {fixed.frame_count}"], metrics=values,
                      probe=fixed, original_probe=info, repairs=plan.steps, path=str(path),
                      series=curves)
    still_wrong = spec_reasons(fixed, s, target_size)
    steps = [
        f"bitrate {info.bitrate / 1e6:.1f} -> {fixed.bitrate / 1e6:.1f} Mbps"
        if step.startswith("bitrate ") else step for step in plan.steps
    ]
    if still_wrong:
        return report("fail", reasons=[f"{r} after repair" for r in still_wrong], metrics=values,
                      probe=fixed, original_probe=info, repairs=steps, path=str(path),
                      series=curves)
    return report("repaired", metrics=values, probe=fixed, original_probe=info, repairs=steps,
                  path=str(destination), series=curves)
