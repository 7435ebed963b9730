"""What the control panel shows of a stored scene beyond its metadata: the quality checks as
marks with units and thresholds, and the camera path over the source still."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from video_agent.quality.settings import QualitySettings

# (property, metric, unit, settings field, "max" or "min")
_METRIC_CHECKS: tuple[tuple[str, str, str, str, str], ...] = (
    ("smooth motion", "jitter_px", "px", "max_jitter_px", "max"),
    ("no jumps", "max_jump_px", "px", "max_jump_px", "max"),
    ("steady brightness", "flicker_luma", "luma 0-255", "max_flicker_luma", "max"),
    ("steady colour", "flicker_color", "a*b*", "max_flicker_color", "max"),
    ("steady colour channels", "flicker_channel", "% of level", "max_flicker_channel", "max"),
    ("no frozen stretch", "frozen_max_s", "s", "max_frozen_s", "max"),
    ("no black frames", "black_frames", "frames", "max_black_frames", "max"),
    ("no blank frames", "blank_frames", "frames", "max_black_frames", "max"),
    ("no cuts", "cuts", "cuts", "max_cuts", "max"),
    ("brightness drift", "drift_luma", "luma 0-255", "max_drift_luma", "max"),
    ("colour drift", "drift_color", "a*b*", "max_drift_color", "max"),
    ("first frame like the still", "ssim_first", "SSIM", "min_ssim_first", "min"),
    ("first frame like the still (PSNR)", "psnr_first", "dB", "min_psnr_first", "min"),
)


def quality_checks(quality: dict[str, Any],
                   settings: QualitySettings | None = None) -> list[dict[str, Any]]:
    """Each check as ``{property, metric, value, unit, threshold, outcome}`` (outcome ``pass``,
    ``repair`` or ``fail``; ``threshold`` is the passing condition in words, with its unit).
    A report that carries its own ``checks`` list is passed through; otherwise the checks are
    derived from its metrics and probe against ``settings``."""
    own = quality.get("checks")
    if isinstance(own, list) and own:
        probe = quality.get("probe") or {}
        return [_from_gate(c, probe) if "status" in c else c for c in own if isinstance(c, dict)]
    s = settings or QualitySettings()
    metrics = quality.get("metrics") or {}
    checks: list[dict[str, Any]] = []
    for prop, metric, unit, field, bound in _METRIC_CHECKS:
        if metric not in metrics:
            continue
        value, limit = float(metrics[metric]), float(getattr(s, field))
        ok = value <= limit if bound == "max" else value >= limit
        condition = f"{'<=' if bound == 'max' else '>='} {limit:g} {unit}".strip()
        checks.append({"property": prop, "metric": metric, "value": round(value, 3),
                       "unit": unit, "threshold": condition,
                       "outcome": "pass" if ok else "fail"})
    probe, before = quality.get("probe") or {}, quality.get("original_probe")
    if probe:
        checks += _spec_checks(probe, before or {}, s)
    return checks


_AT_LEAST = ("ssim_first", "psnr_first", "face_coverage", "channel_order")
"""Gate checks whose value must reach the threshold (the rest must stay at or under it)."""
_OUTCOME = {"passed": "pass", "repaired": "repair", "failed": "fail", "flagged": "flag"}


def _shown(name: str, value: Any, probe: dict[str, Any]) -> tuple[Any, str | None]:
    """A spec check's value as a viewer reads it (``1024x576``, not 589824 pixels), and its
    unit; ``None`` keeps the check's own unit."""
    if name == "size" and probe.get("width"):
        return f"{probe['width']}x{probe['height']}", ""
    if name == "codec" and probe.get("codec"):
        return "/".join(str(p) for p in (probe["codec"], probe.get("pix_fmt")) if p), ""
    if name == "moov_front" and isinstance(value, int | float):
        return ("moov first" if value else "moov last"), ""
    return value, None


def _from_gate(check: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
    """A gate check (``QualityCheck``: name, property, value, unit, threshold, status) as a row."""
    name, limit = str(check.get("name", "")), check.get("threshold")
    value, unit = _shown(name, check.get("value"), probe)
    threshold = str(check.get("expected") or "")
    if not threshold and isinstance(limit, int | float):  # a report made before 'expected'
        unit = check.get("unit", "")
        threshold = f"{'>=' if name in _AT_LEAST else '<='} {limit:g} {unit}".strip()
    return {"property": f"{check.get('property', '')}: {name.replace('_', ' ')}",
            "metric": name, "value": value,
            "unit": check.get("unit", "") if unit is None else unit,
            "threshold": threshold, "outcome": _OUTCOME.get(str(check.get("status")), "pass"),
            "reason": check.get("reason", ""), "action": check.get("action", "")}


def _spec_checks(probe: dict[str, Any], before: dict[str, Any],
                 s: QualitySettings) -> list[dict[str, Any]]:
    """The technical spec on the stored clip; ``repair`` where the delivered clip missed it."""
    width, height = s.target_size
    rows: list[tuple[str, str, Callable[[dict[str, Any]], Any], str, str,
                     Callable[[dict[str, Any]], bool]]] = [
        ("size", "resolution", lambda p: f"{p.get('width')}x{p.get('height')}", "px",
         f"= {width}x{height}", lambda p: (p.get("width"), p.get("height")) == (width, height)),
        ("frame rate", "fps", lambda p: p.get("fps"), "fps", f"= {s.fps}",
         lambda p: abs(float(p.get("fps") or 0) - s.fps) <= 0.01),
        ("length", "duration", lambda p: round(float(p.get("duration") or 0), 2), "s",
         f"{s.min_duration:g}-{s.max_duration:g}",
         lambda p: s.min_duration - 0.5 / s.fps <= float(p.get("duration") or 0)
         <= s.max_duration + 0.5 / s.fps),
        ("bitrate", "bitrate", lambda p: round(float(p.get("bitrate") or 0) / 1e6, 2), "Mbps",
         f"{s.min_bitrate / 1e6:g}-{s.max_bitrate / 1e6:g}",
         lambda p: s.min_bitrate <= float(p.get("bitrate") or 0) <= s.max_bitrate),
        ("codec", "codec", lambda p: p.get("codec"), "", "= h264",
         lambda p: p.get("codec") == "h264"),
        ("no audio", "audio_streams", lambda p: p.get("audio_streams"), "streams", "= 0",
         lambda p: not p.get("audio_streams")),
    ]
    checks = []
    for prop, metric, value, unit, threshold, ok in rows:
        outcome = "pass" if ok(probe) else "fail"
        if outcome == "pass" and before and not ok(before):
            outcome = "repair"
        checks.append({"property": prop, "metric": metric, "value": value(probe), "unit": unit,
                       "threshold": f"{threshold} {unit}".strip(), "outcome": outcome})
    return checks


def camera_path(metadata: dict[str, Any], steps: int = 8) -> dict[str, Any] | None:
    """The planned camera move over the source still: framing rectangles (fractions of the
    still: x, y, w, h) at the start, along the way and at the end. None without a plan."""
    from video_agent.adapters.render.trajectory import plan_trajectory

    params, image = metadata.get("video_params") or {}, metadata.get("image") or {}
    motion = params.get("motion") or {}
    src_w, src_h = image.get("width"), image.get("height")
    if not motion.get("type") or not src_w or not src_h:
        return None
    resolution = str(metadata.get("resolution") or "1024x576")
    out_w, out_h = (int(v) for v in resolution.split("x"))
    focus = [(p["x"], p["y"]) for p in
             (metadata.get("provider_details") or {}).get("focus") or [] if "x" in p]
    trajectory = plan_trajectory(
        motion["type"], src_size=(src_w, src_h), out_size=(out_w, out_h),
        duration=float(motion.get("duration") or 6.0), speed=motion.get("speed") or "slow",
        direction=motion.get("direction"), easing=motion.get("easing") or "ease_in_out",
        motion_scale=float((params.get("generation") or {}).get("motion_scale") or 0.8),
        focus=focus)

    def rect(u: float) -> dict[str, float]:
        cam = trajectory.at(u)
        w, h = cam.width, cam.height(trajectory.aspect)
        return {"x": round((cam.cx - w / 2) / src_w, 4), "y": round((cam.cy - h / 2) / src_h, 4),
                "w": round(w / src_w, 4), "h": round(h / src_h, 4)}

    return {"motion": motion["type"], "direction": motion.get("direction"),
            "start": rect(0.0), "end": rect(1.0),
            "path": [rect(i / steps) for i in range(steps + 1)]}
