"""The quality gate: probe, measure, repair and judge one clip.

Thread safety: safe to assess several clips at once from different threads; every decoder,
encoder and OpenCV object is made per call (see ``frames``, ``probe``, ``repair``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict, Unpack

import cv2
import numpy as np

from video_agent import cpu_pool
from video_agent.models import (
    ProbeInfo,
    QualityCheck,
    QualityProperty,
    QualityReport,
    VideoParams,
)
from video_agent.quality import composition
from video_agent.quality import metrics as m
from video_agent.quality.checks import StillFacts, failures, measure_checks, spec_checks
from video_agent.quality.confirm import confirm_written
from video_agent.quality.frames import AnalysisFrames
from video_agent.quality.memo import Waiting
from video_agent.quality.probe import probe
from video_agent.quality.repair import RepairPlan, plan_repair
from video_agent.quality.settings import QualityError, QualitySettings
from video_agent.quality.transcode import one_pass


def _read_still(path: str | Path, flag: int) -> np.ndarray:
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise QualityError(f"source image {path}: {exc}") from exc
    image = cv2.imdecode(data, flag) if data.size else None
    if image is None:
        raise QualityError(f"source image {path}: not a readable image")
    return image


def read_gray(path: str | Path) -> np.ndarray:
    """Read a still as 8-bit gray (any format OpenCV reads, any path).

    Raises:
        QualityError: the file is missing or not an image.
    """
    return _read_still(path, cv2.IMREAD_GRAYSCALE)


def read_rgb(path: str | Path) -> np.ndarray:
    """Read a still as 8-bit RGB (any format OpenCV reads, any path).

    Raises:
        QualityError: the file is missing or not an image.
    """
    return cv2.cvtColor(_read_still(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@dataclass
class _Still:
    """The source still as the gate needs it, read (and its faces searched) off the decode's
    thread; ``error`` says why it could not be read."""

    rgb: np.ndarray | None = None
    gray: np.ndarray | None = None
    facts: StillFacts = field(default_factory=StillFacts)
    error: str | None = None

    @classmethod
    def read(cls, path: str | Path, names: Sequence[str] = ()) -> _Still:
        try:
            rgb = read_rgb(path)
        except QualityError as exc:
            return cls(error=exc.reason)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        facts = StillFacts()
        facts.faces(gray)
        facts.named(gray, names)
        return cls(rgb, gray, facts)

    @classmethod
    def take(cls, path: str | Path, names: Sequence[str] = ()) -> _Still:
        """The still ``prepare_still`` read for this gate (the file unchanged since), or the
        still read now."""
        key = _file_key(path)
        ready = _PREPARED.take(key) if key is not None else None
        if ready is None or ready.gray is None:
            return cls.read(path, names)
        ready.facts.named(ready.gray, names)  # other names than prepared: searched (memo)
        return ready


PREPARED_BYTES = 64 * 2**20
"""Stills read ahead and not yet taken by their gate: at most this many bytes (about ten
1536x1024 stills); the oldest go first."""
_PREPARED: Waiting[_Still] = Waiting(PREPARED_BYTES)


def _file_key(path: str | Path) -> tuple[str, int, int, int] | None:
    """What tells this file apart from any other or a rewrite of it (None: no such file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino


def prepare_still(path: str | Path, names: Sequence[str] = ()) -> None:
    """Read a still and find on it what the gate will look for (its faces, its named subjects),
    ahead of the clip: the graph calls it while a provider makes the clip. The next gate of
    the unchanged file takes the still as read, and any gate finds the faces in the ``memo``;
    a still that cannot be read is left for the gate to report."""
    key = _file_key(path)  # taken first: a file rewritten during the read is not kept
    ticket = _PREPARED.ticket()  # a ``forget`` during the read keeps nothing
    still = _Still.read(path, names)
    if key is not None and still.rgb is not None and still.gray is not None:
        _PREPARED.put(key, still, still.rgb.nbytes + still.gray.nbytes, ticket)


def forget() -> None:
    """Forget every still read ahead and every face or subject found: the next gate is cold."""
    _PREPARED.clear()
    composition.forget()


def measure(frames: AnalysisFrames, source_gray: np.ndarray | None,
            settings: QualitySettings, *, moving: bool = True,
            source_rgb: np.ndarray | None = None) -> tuple[dict[str, float], list[str]]:
    """All content metrics of a decoded clip, and a reason for each failed threshold.

    Args:
        frames: the clip decoded once into analysis frames.
        source_gray: the still the clip was made from (gray), or None to skip fidelity.
        settings: thresholds.
        moving: False for a planned static shot, where identical frames are expected.
        source_rgb: the same still in colour, for the colour check (skipped when None).
    """
    values, checks = measure_checks(frames, source_gray, settings, moving=moving,
                                    source_rgb=source_rgb)
    return values, failures(checks)


def spec_reasons(info: ProbeInfo, settings: QualitySettings, target: tuple[int, int]
                 ) -> list[str]:
    """Where a probed clip misses the technical spec (empty when it meets it)."""
    return failures(spec_checks(info, settings, target))


def frame_series(gray: np.ndarray, points: int = 120) -> dict[str, list[float]]:
    """Per-frame brightness and motion, downsampled to at most ``points`` values each (motion
    keeps each span's largest change, so a one-frame glitch survives the downsampling)."""
    if gray.shape[0] == 0:
        return {}
    brightness = m.frame_stats(gray)[0]
    change = np.concatenate([[0.0], m.frame_differences(gray)])
    spans = np.array_split(np.arange(len(brightness)), min(points, len(brightness)))
    return {"brightness": [round(float(brightness[i].mean()), 2) for i in spans],
            "motion": [round(float(change[i].max()), 2) for i in spans]}


def _repaired_name(path: Path, work_dir: Path) -> Path:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return work_dir / f"{path.stem}.repaired-{digest}.mp4"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def assess_clip(path: str | Path, source_image: str | Path | None, params: VideoParams, *,
                settings: QualitySettings | None = None, work_dir: str | Path,
                target_size: tuple[int, int] = (1024, 576)) -> QualityReport:
    """Probe, measure, repair if needed, and judge one clip. Never raises for any file.

    Args:
        path: the clip as delivered.
        source_image: the still the clip was made from; None skips the fidelity check.
        params: the plan (``params.motion.duration`` is the planned length).
        settings: thresholds (defaults when None).
        work_dir: where a repaired clip is written (a new file; the input is never changed).
        target_size: size every stored clip must have.

    Returns:
        ``pass`` (``path`` is the input), ``repaired`` (``path`` is the new file, the original
        probe kept; the repaired file went through the whole gate: a re-encoded clip is
        measured once, on the pictures handed to its encoder) or ``fail`` with
        readable reasons, each prefixed with the property it is about; ``checks`` lists every
        check with its metric and threshold; metrics always filled for a decodable clip.
    """
    started = time.perf_counter()
    try:
        return _assess(Path(path), source_image, params, settings or QualitySettings(),
                       Path(work_dir), target_size, started)
    except Exception as exc:  # Decoders raise many error types; no file may crash the gate.
        reason = f"file: cannot be judged ({type(exc).__name__}: {_one_line(exc)})"
        return QualityReport(verdict="fail", reasons=[reason], path=str(path),
                             elapsed_s=round(time.perf_counter() - started, 3))


def _file_fail(reason: str) -> QualityCheck:
    prop: QualityProperty = "file"
    return QualityCheck(name="readable", property=prop, status="failed", action="rejected",
                        reason=f"{prop}: {reason}")


class _ReportFields(TypedDict, total=False):
    """The report fields ``_assess`` fills besides the verdict, checks and timing."""

    metrics: dict[str, float]
    probe: ProbeInfo
    original_probe: ProbeInfo | None
    repairs: list[str]
    series: dict[str, list[float]]
    path: str


def _assess(path: Path, source_image: str | Path | None, params: VideoParams,
            s: QualitySettings, work: Path, target_size: tuple[int, int], started: float
            ) -> QualityReport:
    def report(verdict: Literal["pass", "repaired", "fail"], checks: list[QualityCheck],
               **kw: Unpack[_ReportFields]) -> QualityReport:
        reasons = [c.reason for c in checks if c.status == "failed"]
        return QualityReport(verdict=verdict, reasons=reasons, checks=checks,
                             elapsed_s=round(time.perf_counter() - started, 3), **kw)

    try:
        info = probe(path)
    except QualityError as exc:
        return report("fail", [_file_fail(_one_line(exc))], path=str(path))
    if info.width * info.height > s.max_pixels:
        check = _file_fail(f"picture {info.width}x{info.height} larger than "
                           f"{s.max_pixels} pixels")
        check.property = "resolution/aspect"
        check.reason = check.reason.replace("file:", "resolution/aspect:", 1)
        return report("fail", [check], probe=info, path=str(path))

    if info.frame_count < 2:
        return report("fail", [_file_fail(f"{info.frame_count} frame ({info.container}/"
                                          f"{info.codec}): a still picture, not a video")],
                      probe=info, path=str(path))
    plan = plan_repair(info, params.motion.duration, s, target_size)
    destination = _repaired_name(path, work)
    partial = destination.with_name(destination.name + ".partial")
    repairing = plan.needed and not plan.refused
    if repairing:
        destination.parent.mkdir(parents=True, exist_ok=True)
    # The still is read (and searched, unless ``prepare_still`` did) in a helper thread while
    # the clip decodes (OpenCV and PyAV let go of the GIL).
    still = (cpu_pool.helpers().submit(_Still.take, source_image, params.motion.focus_points)
             if source_image is not None else None)
    try:  # one decode: analysis frames, and the repair written as they stream by
        done = one_pass(path, plan if repairing else None, s, partial if repairing else None)
    except Exception as exc:  # PyAV raises many error types; the gate must not.
        partial.unlink(missing_ok=True)
        what = "repair failed" if repairing else "decoding failed"
        return report("fail", [_file_fail(f"{what}: {type(exc).__name__}: "
                                          f"{_one_line(exc)}")],
                      probe=info, repairs=_named(plan), path=str(path))
    source = still.result() if still is not None else None
    frames = done.frames
    if frames.count == 0:
        partial.unlink(missing_ok=True)
        return report("fail", [_file_fail(_one_line(ValueError(frames.error or
                                                               "no frame decoded")))],
                      probe=info, path=str(path))
    source_gray = source_rgb = None
    facts = StillFacts()
    checks: list[QualityCheck] = []
    if source is not None and source.error is not None:
        check = _file_fail(source.error)
        check.property, check.name = "fidelity", "source_image"
        check.reason = f"fidelity: {source.error}"
        checks.append(check)
    elif source is not None:
        source_rgb, source_gray, facts = source.rgb, source.gray, source.facts
    moving = params.motion.type != "static"
    measure_started = time.perf_counter()
    # A clip re-encoded by its repair is measured once, on the pictures handed to the encoder:
    # those are what will be stored (the original's frames only count and time the decode).
    on_fed = repairing and plan.encode and done.fed is not None and done.fed.count > 0
    measured = done.fed if on_fed and done.fed is not None else frames
    values, content = measure_checks(measured, source_gray, s, moving=moving,
                                     source_rgb=source_rgb, facts=facts,
                                     focus_points=params.motion.focus_points)
    values["frames_decoded"] = float(frames.count)
    values["measure_s"] = round(time.perf_counter() - measure_started, 3)
    curves = frame_series(frames.gray)
    if frames.error:
        checks.insert(0, _file_fail(_one_line(ValueError(frames.error))))
    elif info.frame_count and abs(frames.count - info.frame_count) > 1:
        checks.insert(0, _file_fail(f"decoded {frames.count} of {info.frame_count} frames"))
    if on_fed:  # judged below as the repaired clip's checks; the passed ones are reported
        kept = [c for c in content if c.status != "failed"]
    else:
        checks += content

    spec = _with_repairs(spec_checks(info, s, target_size), plan)
    checks += spec
    if any(c.status == "failed" for c in checks) or not plan.needed:
        partial.unlink(missing_ok=True)
        rejected = any(c.status == "failed" for c in checks)
        return report("fail" if rejected else "pass", checks + (content if on_fed else []),
                      metrics=values, probe=info, path=str(path), series=curves)
    if on_fed:
        checks = checks[:len(checks) - len(spec)] + kept + spec

    try:  # the pass knows what it wrote; one probe confirms the container agrees
        partial.replace(destination)
        fixed = probe(destination)
    except (QualityError, OSError) as exc:
        partial.unlink(missing_ok=True)
        reason = exc.reason if isinstance(exc, QualityError) else str(exc)
        failed = _file_fail(f"repair failed: {_one_line(ValueError(reason))}")
        return report("fail", [*checks, failed], metrics=values, probe=info,
                      repairs=_named(plan), path=str(path), series=curves)
    if plan.encode and fixed.frame_count != done.frames_written:
        failed = _file_fail(f"repair failed: wrote {done.frames_written} frames, the file "
                            f"holds {fixed.frame_count}")
        destination.unlink(missing_ok=True)
        return report("fail", [*checks, failed], metrics=values, probe=fixed,
                      original_probe=info, repairs=_named(plan), path=str(path),
                      series=curves)
    steps = [
        f"{prop}: " + (f"bitrate {info.bitrate / 1e6:.1f} -> {fixed.bitrate / 1e6:.1f} Mbps"
                       if step.startswith("bitrate ") else step)
        for prop, step in zip(plan.step_properties, plan.steps, strict=True)
    ]
    # The repaired file goes through the whole gate: a repair that brings in a defect (a
    # freeze, bars, a lost frame) is not a repair. Its pictures were judged as they were handed
    # to the encoder (a container-only repair copies the packets: the frames measured), and a
    # few decoded keyframes confirm the file holds them.
    after = [c for c in spec_checks(fixed, s, target_size) if c.status == "failed"]
    judged = done.fed if plan.encode else frames
    confirmed = None if judged is None else confirm_written(
        destination, judged, s.analysis_width)
    if judged is None or confirmed is None or confirmed.error or confirmed.sampled == 0:
        why = confirmed.error if confirmed is not None else "no frame was written"
        after.append(_file_fail(f"repaired file does not decode: {why}"))
    else:
        values["repair_mismatch"] = round(confirmed.diff, 3)
        if confirmed.diff > s.max_repair_mismatch:
            after.append(_file_fail(
                f"repaired file differs from the frames encoded: mean difference "
                f"{confirmed.diff:.1f} > {s.max_repair_mismatch:g} on {confirmed.sampled} "
                "sampled frames"))
        # measured above: the fed pictures of an encode, the copied frames of a remux
        after += [c.model_copy() for c in content if c.status == "failed"]
        values.update({f"repaired_{k}": v for k, v in values.items() if k in _AFTER_REPAIR})
    if after:
        for c in after:
            c.reason = f"{c.reason} after repair ({'; '.join(steps)})"
            c.action = "repair rejected"
        destination.unlink(missing_ok=True)
        return report("fail", checks + after, metrics=values, probe=fixed, original_probe=info,
                      repairs=steps, path=str(path), series=curves)
    return report("repaired", checks, metrics=values, probe=fixed, original_probe=info,
                  repairs=steps, path=str(destination), series=curves)


def _named(plan: RepairPlan) -> list[str]:
    return [f"{p}: {step}" for p, step in zip(plan.step_properties, plan.steps, strict=True)]


_AFTER_REPAIR = ("frozen_max_s", "black_frames", "blank_frames", "ssim_first", "colour_delta_e",
                 "jitter_px")
"""Metrics of the repaired file kept in the report (as ``repaired_<name>``)."""


def _with_repairs(spec: list[QualityCheck], plan: RepairPlan) -> list[QualityCheck]:
    """Spec checks with their planned repair: a repairable miss is 'repaired', else 'failed'."""
    by_property: dict[QualityProperty, list[str]] = {}
    for prop, step in zip(plan.step_properties, plan.steps, strict=True):
        by_property.setdefault(prop, []).append(step)
    refused = dict(plan.refused)
    out = []
    for c in spec:
        if c.property in refused:
            c.status, c.action = "failed", "rejected"
            c.reason = f"{c.property}: {refused.pop(c.property)}"
        elif c.status == "failed" and c.property in by_property:
            c.status, c.action, c.reason = "repaired", "; ".join(by_property.pop(c.property)), ""
        elif c.status == "failed":
            c.action = "rejected"
        out.append(c)
    for prop, steps in by_property.items():
        out.append(QualityCheck(name=prop.replace(" ", "_").replace("/", "_"),
                                property=prop, status="repaired",
                                action="; ".join(steps)))
    for prop, why in refused.items():
        out.append(QualityCheck(name=prop.replace(" ", "_").replace("/", "_"),
                                property=prop, status="failed",
                                action="rejected", reason=f"{prop}: {why}"))
    return out
