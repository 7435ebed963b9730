"""Director vocabulary, table-driven: each phrasing gives the move, direction, pace and length
a director would expect."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from video_agent.models import SceneContext
from video_agent.reasoning import analyze_scene, plan_rules

PORTRAIT = "A woman sits by the window of a quiet room, holding a cup of tea."
VALLEY = "Mountains rise above a green valley; a river winds through the fields under a wide sky."
CHASE = "The thief sprints down the alley, the detective chasing him, leaping over crates."
TALK = "Two friends talk across the table; she tells him she is leaving and he asks why."
CITY = "The city skyline at dusk, towers lit from within, the whole town stretching to the sea."
RING = "A close-up of a silver ring lying on the table beside an old letter."


@dataclass(frozen=True)
class Case:
    layer1: str
    scene: str
    motion: str
    direction: str | None
    speed: str
    duration: tuple[float, float]
    scene_type: str | None = None


CASES: dict[str, Case] = {
    "push-in": Case("Slow push-in on her face", PORTRAIT, "push_in", None, "slow", (6, 6)),
    "dolly in": Case("Dolly in toward the subject, steady", PORTRAIT, "push_in", None,
                     "medium", (6, 6)),
    "zoom in": Case("Quick zoom in on her eyes", PORTRAIT, "push_in", None, "fast", (4, 5)),
    "slow creep": Case("A slow creep toward the window", PORTRAIT, "push_in", None, "slow",
                       (6, 6)),
    "pull back": Case("Gentle pull back to show the room", PORTRAIT, "pull_out", None, "slow",
                      (6, 6)),
    "dolly out": Case("Dolly out slowly", PORTRAIT, "pull_out", None, "slow", (6, 6)),
    "reveal": Case("Slow reveal of the whole valley", VALLEY, "pull_out", None, "slow",
                   (8, 8), "landscape"),
    "pan left": Case("Pan left across the range", VALLEY, "pan", "right_to_left", "slow",
                     (8, 8), "landscape"),
    "pan right": Case("Camera pans right, leisurely", VALLEY, "pan", "left_to_right", "slow",
                      (8, 8)),
    "pan right to left": Case("Slow pan from right to left", VALLEY, "pan", "right_to_left",
                              "slow", (8, 8)),
    "whip pan": Case("Whip pan to the door", CHASE, "pan", "left_to_right", "fast", (4, 5),
                     "action"),
    "tilt up": Case("Tilt up to the treetops", VALLEY, "tilt", "up", "slow", (8, 8)),
    "tilt down": Case("Brisk tilt down to the street", CITY, "tilt", "down", "fast", (4, 5)),
    "truck left": Case("Truck left alongside her", PORTRAIT, "truck", "left", "slow", (6, 6)),
    "tracking": Case("Fast tracking shot following the runner", CHASE, "truck", "right", "fast",
                     (4, 5), "action"),
    "orbit": Case("Slow orbit around the couple", TALK, "orbit", "clockwise", "slow", (6, 6)),
    "arc counterclockwise": Case("Arc around her counterclockwise", PORTRAIT, "orbit",
                                 "counterclockwise", "slow", (6, 6)),
    "crane up": Case("Crane up over the rooftops", CITY, "crane", "up", "slow", (8, 8),
                     "establishing"),
    "jib down": Case("Jib down to the street", CITY, "crane", "down", "slow", (8, 8)),
    "pedestal": Case("Pedestal up to eye level", PORTRAIT, "crane", "up", "slow", (6, 6)),
    "locked-off": Case("Locked-off shot, let the dialogue breathe", TALK, "static", None,
                       "slow", (6, 6), "dialogue"),
    "static": Case("Static camera on a tripod", RING, "static", None, "slow", (6, 6)),
    "no camera movement": Case("No camera movement at all", PORTRAIT, "static", None, "slow",
                               (6, 6)),
    "handheld": Case("Handheld, intimate", PORTRAIT, "ken_burns", None, "slow", (6, 6)),
    "hold for 8 seconds": Case("Slow push-in, hold for 8 seconds", PORTRAIT, "push_in", None,
                               "slow", (8, 8)),
    "ten-second": Case("A ten-second pan across the valley", VALLEY, "pan", "left_to_right",
                       "slow", (10, 10)),
    "12 s asked": Case("Pan right over the hills for 12 seconds", VALLEY, "pan",
                       "left_to_right", "slow", (10, 10)),
    "avoid pans": Case("Avoid any pans; keep it calm", VALLEY, "pull_out", None, "slow",
                       (8, 8), "landscape"),
    "no layer1: portrait": Case("", PORTRAIT, "push_in", None, "slow", (6, 6),
                                "character_focused"),
    "no layer1: landscape": Case("", VALLEY, "pan", "left_to_right", "slow", (8, 8),
                                 "landscape"),
    "no layer1: action": Case("", CHASE, "truck", "right", "fast", (4, 5), "action"),
    "no layer1: dialogue": Case("", TALK, "ken_burns", None, "slow", (6, 6), "dialogue"),
    "no layer1: establishing": Case("Establishing shot of the city", CITY, "pull_out", None,
                                    "slow", (8, 8), "establishing"),
    "no layer1: object": Case("", RING, "push_in", None, "slow", (6, 6), "object_detail"),
    "ken burns": Case("Ken Burns drift toward the ring", RING, "ken_burns", None, "slow",
                      (6, 6)),
    "dollies in": Case("Camera slowly dollies in on her face", PORTRAIT, "push_in", None,
                       "slow", (6, 6)),
    "drifting right": Case("Sweeping aerial view over the forest, drifting right", VALLEY,
                           "truck", "right", "slow", (8, 8)),
    "drifts left to right": Case("Camera drifts left to right across the scene", PORTRAIT,
                                 "truck", "right", "slow", (6, 6)),
    "move the camera left": Case("Move the camera to the left slowly", PORTRAIT, "truck",
                                 "left", "slow", (6, 6)),
    "pan across from left to right": Case("Pan across the bookshelves from left to right",
                                          PORTRAIT, "pan", "left_to_right", "slow", (6, 6)),
    "keep the camera still": Case("Keep the camera still; the actors carry the scene", TALK,
                                  "static", None, "slow", (6, 6)),
    "tilt the camera down": Case("Tilt the camera down to the floor", PORTRAIT, "tilt", "down",
                                 "slow", (6, 6)),
    "tilt down then up": Case("Tilt down then up", PORTRAIT, "tilt", "down", "slow", (6, 6)),
    "boom up": Case("Boom up to show the cityscape", CITY, "crane", "up", "slow", (8, 8)),
    "circle around": Case("Circle around the dancer", PORTRAIT, "orbit", "clockwise", "slow",
                          (6, 6)),
    "zoom out to reveal": Case("Gentle zoom out to reveal the crowd", PORTRAIT, "pull_out",
                               None, "slow", (6, 6)),
    "don't zoom, pan": Case("Don't zoom; a slow pan right is enough", PORTRAIT, "pan",
                            "left_to_right", "slow", (6, 6)),
    "fast-paced push": Case("Dramatic, fast-paced push toward the villain", PORTRAIT,
                            "push_in", None, "fast", (4, 5)),
    "follow the car": Case("Follow the car as it speeds down the highway", CHASE, "truck",
                           "right", "fast", (4, 5), "action"),
    "very slowly over 9 s": Case("Zoom into the eyes very slowly over 9 seconds", PORTRAIT,
                                 "push_in", None, "slow", (9, 9)),
    "barely perceptible": Case("Barely perceptible push in", PORTRAIT, "push_in", None, "slow",
                               (6, 6)),
}


def _scene(case: Case) -> SceneContext:
    return SceneContext(scene_number=1, scene_content=case.scene, image_path="still.png",
                        layer1_analysis=case.layer1)


@pytest.mark.parametrize("name", list(CASES))
def test_phrasing(name: str) -> None:
    case = CASES[name]
    scene = _scene(case)
    analysis = analyze_scene(scene)
    params, trace = plan_rules(scene, analysis)
    motion = params.motion
    got = (motion.type, motion.direction, motion.speed)
    assert got == (case.motion, case.direction, case.speed), trace.decisions
    assert case.duration[0] <= motion.duration <= case.duration[1]
    assert params.generation.motion_type == motion.type
    if case.scene_type:
        assert analysis.motion_analysis.scene_type == case.scene_type


@pytest.mark.parametrize(("layer1", "expected"), [
    ("Hold for 8 seconds", 8.0),
    ("an 8-second shot", 8.0),
    ("about 7.5s long", 7.5),
    ("7 secs of slow drift", 7.0),
    ("nine-second push in", 9.0),
    ("Set in the 1920s, slow push in", 6.0),
    ("Keep 3 characters in frame", 6.0),
])
def test_durations_in_words(layer1: str, expected: float) -> None:
    scene = SceneContext(scene_number=1, scene_content=PORTRAIT, image_path="x.png",
                         layer1_analysis=layer1)
    params, _ = plan_rules(scene, analyze_scene(scene))
    assert params.motion.duration == expected


@pytest.mark.parametrize("scene_text", [
    "She hangs the frying pans above the stove while he runs to the door.",
    "The children pan for gold in the river; one tilts her head and smiles.",
])
def test_narrative_words_are_no_camera_moves(scene_text: str) -> None:
    scene = SceneContext(scene_number=1, scene_content=scene_text, image_path="x.png")
    analysis = analyze_scene(scene)
    assert [c for c in analysis.cues if c.motion] == []
    params, trace = plan_rules(scene, analysis)
    assert trace.decisions[0].source == "scene"
    assert params.motion.type not in ("pan", "tilt")


def test_camera_sentence_in_the_scene_text_counts_below_layer1() -> None:
    scene = SceneContext(scene_number=1, scene_content="The camera tilts up to the sky.",
                         image_path="x.png", layer1_analysis="Slow push in")
    analysis = analyze_scene(scene)
    assert [(c.source, c.motion) for c in analysis.cues if c.motion] == [
        ("layer1", "push_in"), ("scene", "tilt")]
    assert plan_rules(scene, analysis)[0].motion.type == "push_in"
    scene = scene.model_copy(update={"layer1_analysis": ""})
    assert plan_rules(scene, analyze_scene(scene))[0].motion.type == "tilt"
