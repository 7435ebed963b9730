"""A 3:2 provider frame cropped to 16:9 by a repair keeps the whole head with its headroom: the
crop is placed on the confirmed faces (``composition.find_faces``), not centred on a face box."""

from __future__ import annotations

import cv2
import numpy as np
from face_stills import group_of_two, portrait

from video_agent.models import ProbeInfo
from video_agent.quality import QualitySettings
from video_agent.quality.composition import find_faces
from video_agent.quality.repair import RepairPlan, _centre_crop_on_faces, plan_geometry

S = QualitySettings()


def _planned(frame: np.ndarray) -> tuple[int, int, int, int]:
    h, w = frame.shape[:2]
    info = ProbeInfo(container="mov,mp4", codec="h264", pix_fmt="yuv420p", width=w, height=h,
                     fps=24.0, real_fps=24.0, frame_count=96, duration=4.0,
                     bitrate=3_000_000, audio_streams=0, moov_front=True)
    planned = plan_geometry(info, (1024, 576), S.max_crop_loss)
    assert planned is not None
    _, geometry = planned
    assert geometry.crop is not None
    plan = RepairPlan(target_size=(1024, 576), fps=24, geometry=geometry)
    _centre_crop_on_faces(plan, frame)
    assert plan.geometry is not None and plan.geometry.crop is not None
    return plan.geometry.crop


def _heads_inside(frame: np.ndarray, crop: tuple[int, int, int, int]) -> list[float]:
    """Share of each face's head (with the gate's headroom) inside the crop."""
    h, w = frame.shape[:2]
    x, y, cw, ch = crop
    shares = []
    for face in find_faces(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)):
        x0, y0, x1, y1 = face.head(S.composition_headroom)
        x0, x1, y0, y1 = x0 * w, x1 * w, y0 * h, y1 * h
        inside = (max(0.0, min(x1, x + cw) - max(x0, x))
                  * max(0.0, min(y1, y + ch) - max(y0, y)))
        shares.append(inside / ((x1 - x0) * (y1 - y0)))
    return shares


def test_a_close_up_portrait_keeps_the_top_of_the_head() -> None:
    """A 3:2 close-up whose face fills most of the height: centring the crop on the face box
    cut the hair and headroom; the crop now starts at the top of the head."""
    frame = cv2.resize(portrait()[40:200, 150:390], (768, 512), interpolation=cv2.INTER_CUBIC)
    crop = _planned(frame)
    assert crop[2:] == (768, 432)
    shares = _heads_inside(frame, crop)
    assert shares and min(shares) > 0.99, (crop, shares)


def test_a_3_2_group_keeps_every_head() -> None:
    frame = cv2.resize(group_of_two(), (768, 384), interpolation=cv2.INTER_AREA)
    frame = cv2.copyMakeBorder(frame, 64, 64, 0, 0, cv2.BORDER_REFLECT)  # 3:2, room above
    crop = _planned(frame)
    shares = _heads_inside(frame, crop)
    assert len(shares) == 2 and min(shares) > 0.99, (crop, shares)
