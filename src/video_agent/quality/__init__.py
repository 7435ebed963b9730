"""The quality gate: probe, repair and judge every clip against the spec and its source still."""

from video_agent.quality.assess import (
    assess_clip,
    forget,
    measure,
    prepare_still,
    spec_reasons,
)
from video_agent.quality.probe import probe
from video_agent.quality.repair import RepairPlan, plan_repair
from video_agent.quality.settings import QualityError, QualitySettings
from video_agent.quality.transcode import apply_repair

__all__ = [
    "QualityError",
    "QualitySettings",
    "RepairPlan",
    "apply_repair",
    "assess_clip",
    "forget",
    "measure",
    "plan_repair",
    "prepare_still",
    "probe",
    "spec_reasons",
]
