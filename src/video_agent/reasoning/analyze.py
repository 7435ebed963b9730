"""Scene analysis: read the scene text, the image prompt and the Layer 1 text into the seed's
``reasoning_steps`` (motion analysis, technical requirements, generation strategy)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from video_agent.models import (
    SPEC_FPS,
    SPEC_MIN_HEIGHT,
    SPEC_MIN_WIDTH,
    CameraCue,
    GenerationStrategy,
    MotionAnalysis,
    QualityThresholds,
    SceneAnalysis,
    SceneContext,
    Source,
    Speed,
    TechnicalRequirements,
)
from video_agent.reasoning import rules
from video_agent.reasoning import vocabulary as vocab

_SENTENCE = re.compile(r"(?<!\d)[.!?;]+(?!\d)|\n+")
_NEGATIVE_MARK = re.compile(r"negative\s+prompt\s*:", re.IGNORECASE)
_CAMERA_CONTEXT = re.compile(r"\b(?:camera|shot|lens|frame|framing)\b", re.IGNORECASE)
_PACE_CONTEXT = re.compile(
    r"\b(?:camera|shot|move\w*|motion|pace|pacing|tempo|speed|push|pan|tilt|zoom|dolly|"
    r"track\w*|orbit|crane|drift)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PromptParts:
    positive: str
    negative: str


def split_image_prompt(image_prompt: str) -> PromptParts:
    """Split an SDXL-style prompt at its ``Negative prompt:`` line."""
    parts = _NEGATIVE_MARK.split(image_prompt, maxsplit=1)
    positive = " ".join(parts[0].split())
    negative = " ".join(parts[1].split()) if len(parts) > 1 else ""
    return PromptParts(positive, negative)


def sentences(text: str) -> list[str]:
    return [s.strip(" -*•\t") for s in _SENTENCE.split(text) if s.strip(" -*•\t")]


def _duration_in(sentence: str) -> float | None:
    for match in vocab.DURATION.finditer(sentence):
        value = float(match.group("value"))
        if not math.isfinite(value):  # hundreds of digits: no length anyone means
            continue
        if match.group("unit").lower() != "s" or value <= vocab.BARE_S_MAX:
            return value
    word = vocab.DURATION_WORDS.search(sentence)
    return float(vocab.NUMBER_WORDS[word.group("word").lower()]) if word else None


def _speed_in(sentence: str) -> tuple[Speed | None, str]:
    for word in vocab.SPEED_WORDS:
        match = word.pattern.search(sentence)
        if match and not vocab.is_negated(sentence, match.start()):
            return word.speed, match.group(0)
    return None, ""


def _cues_in(text: str, source: Source, camera_only: bool) -> list[CameraCue]:
    """Camera cues of one text, one per sentence that names a move, a pace or a length.

    Narrative text (scene, image prompt) only counts where it speaks of the camera, so that
    "frying pans" or "she runs" are no camera moves.
    """
    cues: list[CameraCue] = []
    for sentence in sentences(text):
        if camera_only and not _CAMERA_CONTEXT.search(sentence):
            continue
        motion, direction, phrase = None, None, ""
        move_speed = None
        for move in vocab.MOVES:
            match = move.pattern.search(sentence)
            if match and not vocab.is_negated(sentence, match.start()):
                motion, direction, phrase = move.motion, move.direction, match.group(0)
                move_speed = move.speed
                break
        speed, speed_word = _speed_in(sentence)
        if motion is None and not _PACE_CONTEXT.search(sentence):
            speed = None
        if move_speed is not None and speed is None:
            speed, speed_word = move_speed, phrase
        duration = _duration_in(sentence)
        if motion is None and speed is None and duration is None:
            continue
        if motion is not None and motion in rules.DIRECTIONS:
            direction = _direction_override(sentence, motion) or direction
        cues.append(CameraCue(motion=motion, direction=direction, speed=speed,
                              duration=duration, phrase=sentence[:160], source=source))
        del speed_word
    return cues


def _direction_override(sentence: str, motion: str) -> str | None:
    """Direction words elsewhere in the sentence ("pan across the bay, right to left")."""
    lower = sentence.lower()
    if motion == "pan":
        if re.search(r"right\s+to\s+(?:the\s+)?left", lower):
            return "right_to_left"
        if re.search(r"left\s+to\s+(?:the\s+)?right", lower):
            return "left_to_right"
    if motion == "orbit" and re.search(r"counter[- ]?clockwise|anti[- ]?clockwise", lower):
        return "counterclockwise"
    return None


def avoided_moves(scene: SceneContext) -> set[str]:
    """Moves the Layer 1 text rules out ("no pans", "avoid zooming in")."""
    avoided: set[str] = set()
    for sentence in sentences(scene.layer1_analysis):
        for move in vocab.MOVES:
            for match in move.pattern.finditer(sentence):
                if move.motion != "static" and vocab.is_negated(sentence, match.start()):
                    avoided.add(move.motion)
    return avoided


def camera_cues(scene: SceneContext) -> list[CameraCue]:
    prompt = split_image_prompt(scene.image_prompt)
    return (_cues_in(scene.layer1_analysis, "layer1", camera_only=False)
            + _cues_in(scene.scene_content, "scene", camera_only=True)
            + _cues_in(prompt.positive, "image_prompt", camera_only=True))


def classify_scene(scene: SceneContext, prompt: PromptParts) -> str:
    """character_focused, landscape, action, dialogue, establishing or object_detail."""
    weighted = ((scene.scene_content, 2.0), (scene.layer1_analysis, 1.5), (prompt.positive, 1.0))
    scores: dict[str, float] = {}
    for kind, pattern in vocab.SCENE_KINDS.items():
        scores[kind] = sum(weight * len(pattern.findall(text)) for text, weight in weighted)
    people = min(len(vocab.PEOPLE.findall(scene.scene_content)), 3)
    scores["character_focused"] = 2.0 * people + 0.5
    order = ("action", "dialogue", "establishing", "object_detail", "landscape",
             "character_focused")
    for kind, pattern in vocab.KIND_NAMES.items():
        if pattern.search(scene.layer1_analysis):
            scores[kind] += 4.0  # the manager named the kind outright
    if scores["establishing"] > 0:
        scores["establishing"] += 1.0  # the word itself is a director's choice
    if scores["action"] > 0 and not people:
        scores["action"] -= 1.0
    best = max(order, key=lambda kind: (scores[kind], -order.index(kind)))
    return best if scores[best] > 0 else "character_focused"


def _focus_points(scene: SceneContext, prompt: PromptParts, has_people: bool) -> list[str]:
    found: list[str] = []
    body_texts = (scene.layer1_analysis, prompt.positive)
    if has_people:
        for name, pattern in vocab.FOCUS_WORDS:
            if any(pattern.search(text) for text in body_texts):
                found.append(name)
    for item in _listed_details(scene.layer1_analysis):
        if has_people and any(p.search(item) for _, p in vocab.FOCUS_WORDS):
            continue  # a body part, already named above
        obj = vocab.OBJECT_NOUNS.search(item)
        name = _object_name(obj) if obj else vocab.to_snake(" ".join(item.split()[-2:]))
        if name and name not in found:
            found.append(name)
    for text in (scene.layer1_analysis, prompt.positive, scene.scene_content):
        for match in vocab.OBJECT_NOUNS.finditer(text):
            if vocab.is_negated(text, match.start()):
                continue
            name = _object_name(match)
            if name not in found and not any(name.endswith(f) or f.endswith(name)
                                             for f in found):
                found.append(name)
    if not found:
        subject = vocab.PRIMARY_SUBJECTS.search(scene.scene_content)
        if subject:
            found.append(vocab.to_snake(subject.group(1)))
    return found[:4]


def _object_name(match: re.Match[str]) -> str:
    qualifier = (match.group(1) or "").strip().lower()
    noun = match.group(2).lower()
    compound = qualifier in {"menu", "note", "sketch", "story", "picture", "spell", "coffee",
                             "tea", "wine", "beer"}
    return vocab.to_snake(f"{qualifier} {noun}" if compound else noun)


def _listed_details(layer1: str) -> list[str]:
    """Items of "Important details: a, b, c" lines, minus light, mood and movement words."""
    items: list[str] = []
    for line in vocab.DETAIL_LIST.finditer(layer1):
        for raw in re.split(r",|\band\b", line.group("items")):
            item = vocab.ARTICLES.sub("", raw.strip(" .;-"))
            if item and not vocab.NOT_A_FOCUS.search(item) and len(item) <= 40:
                items.append(item)
            elif item and re.search(r"\bhair\b", item, re.IGNORECASE):
                items.append("hair")
    return items


def _lighting(scene: SceneContext, prompt: PromptParts) -> str:
    texts = (scene.layer1_analysis, scene.scene_content, prompt.positive)
    time = next((m.group(0) for t in texts if (m := vocab.TIMES_OF_DAY.search(t))), None)
    lit = any(vocab.LIGHT.search(t) for t in texts)
    moving = any(vocab.LIGHT_DYNAMICS.search(t) for t in (scene.layer1_analysis,
                                                          scene.scene_content))
    name = _time_name(time) if time else ""
    if moving:
        return f"{name}_light_interaction".lstrip("_")
    if time or lit:
        return f"{name}_light".lstrip("_") if name else "ambient_light"
    return "static_lighting"


def _time_name(word: str) -> str:
    word = word.lower()
    aliases = {"dawn": "dawn", "sunrise": "dawn", "noon": "midday", "midday": "midday",
               "golden hour": "golden_hour", "sunset": "sunset", "dusk": "dusk",
               "twilight": "dusk", "midnight": "night", "moonlight": "moon", "moonlit": "moon"}
    return aliases.get(word, vocab.to_snake(word))


def _scene_elements(scene: SceneContext, prompt: PromptParts, lighting: str) -> dict[str, object]:
    subject = vocab.PRIMARY_SUBJECTS.search(scene.scene_content)
    details: list[str] = []
    detail = re.compile(
        r"\b(pink|red|blue|green|white|black|golden|silver|long|grey|gray|brown|yellow|purple|"
        r"orange|dark|bright|menu|old|wooden|leather)\s+(hair|apron|shirt|dress|coat|eyes|hat|"
        r"scarf|book|cup|mug|sword|cloak|jacket|car|door|sky|sea|lantern)\b", re.IGNORECASE)
    layer1 = scene.layer1_analysis.lower()
    for text in (scene.scene_content, prompt.positive):
        for match in detail.finditer(text):
            name = vocab.to_snake(match.group(0))
            noun = match.group(2).lower()
            if name not in details and not any(d.endswith(f"_{noun}") for d in details):
                details.append(name)
    for item in _listed_details(scene.layer1_analysis):
        name = vocab.to_snake(" ".join(item.split()[-2:]))
        if name and name != "hair" and not any(name in d or d in name for d in details):
            details.append(name)
    details.sort(key=lambda d: 0 if d.replace("_", " ") in layer1 else 1)
    texts = " ".join((scene.scene_content, scene.layer1_analysis, prompt.positive))
    tone = "warm" if vocab.WARM.search(texts) else "cool" if vocab.COOL.search(texts) else ""
    light = lighting.removesuffix("_interaction")
    atmosphere = f"{tone}_{light}".strip("_") if light != "static_lighting" else tone or "neutral"
    listed = _listed_details(scene.layer1_analysis)
    if subject and vocab.PEOPLE.fullmatch(subject.group(1)):
        primary = subject.group(1).lower()
    elif listed:
        primary = vocab.to_snake(" ".join(listed[0].split()[-2:]))
    else:
        primary = subject.group(1).lower() if subject else "scene"
    return {"primary_focus": primary,
            "key_details": details[:3], "atmosphere": atmosphere}


def analyze_scene(scene: SceneContext) -> SceneAnalysis:
    """Read a scene into the seed's ``reasoning_steps`` plus the camera cues found in its texts.

    Pure and deterministic: the same scene always gives the same analysis.
    """
    prompt = split_image_prompt(scene.image_prompt)
    cues = camera_cues(scene)
    scene_type = classify_scene(scene, prompt)
    has_people = bool(vocab.PEOPLE.search(scene.scene_content)) or scene_type == "dialogue"
    motion, _direction, move_cue = rules.choose_move(scene_type, cues, avoided_moves(scene))
    speed, _scale = rules.choose_speed(scene_type, move_cue, cues, motion.value)
    duration = rules.choose_duration(scene_type, cues, speed.value)

    everything = " ".join((scene.scene_content, scene.layer1_analysis, prompt.positive))
    requirements = [{"slow": "subtle", "medium": "steady", "fast": "dynamic"}[speed.value]]
    if motion.value == "static":
        requirements = ["steady"]
    if vocab.ATMOSPHERE.search(everything):
        requirements.append("atmospheric")
    if move_cue is not None and "hand" in move_cue.phrase.lower():
        requirements.append("handheld_feel")

    key_elements = []
    if has_people:
        key_elements.append("character")
    if vocab.PLACES.search(everything) or scene_type in ("landscape", "establishing"):
        key_elements.append("environment")
    if vocab.PROPS.search(" ".join((scene.scene_content, scene.layer1_analysis))):
        key_elements.append("props")

    detail_tags = len(vocab.IMAGE_DETAIL_TAGS.findall(prompt.positive))
    if vocab.HIGH_DETAIL.search(" ".join((scene.layer1_analysis, scene.scene_content))) or \
            detail_tags >= 3:
        quality = "high_detail_preservation"
    elif speed.value == "fast":
        quality = "motion_clarity"
    else:
        quality = "standard"
    focus = _focus_points(scene, prompt, has_people)
    lighting = _lighting(scene, prompt)

    manner = {"slow": "subtle", "medium": "steady", "fast": "dynamic"}[speed.value]
    primary = ("static_with_subject_motion" if motion.value == "static"
               else f"{motion.value}_with_{manner}_movement")
    fallback_motion, _ = rules.FALLBACK_MOVES[motion.value]
    fallback = (f"{fallback_motion}_with_focus_points" if focus
                else f"gentle_{fallback_motion}")
    min_duration = rules.clamp(float(duration.value), *rules.DURATION_RANGE)
    return SceneAnalysis(
        motion_analysis=MotionAnalysis(
            scene_type=scene_type,
            movement_requirements=requirements,
            key_elements=key_elements,
            timing_considerations=f"{speed.value}_paced",
        ),
        technical_requirements=TechnicalRequirements(
            quality_needs=quality, focus_areas=focus, lighting_dynamics=lighting),
        generation_strategy=GenerationStrategy(
            primary_approach=primary,
            fallback_options=fallback,
            quality_thresholds=QualityThresholds(
                min_resolution=f"{SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT}", min_fps=SPEC_FPS,
                min_duration=min_duration),
        ),
        cues=cues,
        style_preferences=[m.group(0).lower() for m in vocab.STYLE_TAGS.finditer(prompt.positive)],
        negative_prompt=prompt.negative,
        scene_elements=_scene_elements(scene, prompt, lighting),
    )
