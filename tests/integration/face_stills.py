"""Stills with real faces (scikit-image's astronaut and the example portrait, composited) for
the composition tests: portrait, tall portrait, a group of two or three faces far apart, an
off-centre subject and a small one."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from viewer_stills import sample

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "stories" / "images"


def portrait() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(EXAMPLES / "portrait.jpg")), cv2.COLOR_BGR2RGB)


def _place(scene: np.ndarray, image: np.ndarray, x: int, y: int) -> np.ndarray:
    h, w = image.shape[:2]
    scene[y:y + h, x:x + w] = image
    return scene


def astronaut(side: int) -> np.ndarray:
    return cv2.resize(sample("astronaut"), (side, side), interpolation=cv2.INTER_AREA)


def tall() -> np.ndarray:
    """A 2:3 portrait: the face sits high, where a centre 16:9 crop cuts it."""
    return _place(cv2.resize(sample("coffee"), (512, 768)), sample("astronaut"), 0, 40)


def group_of_two() -> np.ndarray:
    return np.hstack([sample("astronaut"), cv2.resize(portrait(), (512, 512))])


def group_of_three() -> np.ndarray:
    """Three faces a third of the still apart: no 16:9 window of it shows all three."""
    scene = cv2.resize(sample("coffee"), (1800, 700))
    for x in (0, 620, 1240):
        _place(scene, astronaut(560), x, 70)
    return scene


def off_centre() -> np.ndarray:
    return _place(cv2.resize(sample("coffee"), (1536, 864)), sample("astronaut"), 980, 100)


def small_subject(side: int = 320) -> np.ndarray:
    """A person in the lower left third; the face is about ``side * 0.18`` pixels wide."""
    return _place(cv2.resize(sample("coffee"), (1536, 864)), astronaut(side), 300, 420)


FACE_STILLS = {"portrait": portrait, "tall_portrait": tall, "group_of_two": group_of_two,
               "group_of_three": group_of_three, "off_centre": off_centre,
               "small_subject": small_subject}
