"""The words directors and Layer 1 managers write about camera work, and what each one means.

Each table maps regular expressions (matched case-insensitively on word boundaries) to the
planner's vocabulary: a ``MotionType`` with a direction, a speed band, a scene kind, a focus
point.  Tables are ordered: where two entries could match the same words, the more specific one
comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from video_agent.models import MotionType, Speed

# --------------------------------------------------------------------------- camera moves


@dataclass(frozen=True)
class MovePattern:
    """A phrasing of a camera move; ``direction`` is the default when the words give none."""

    pattern: re.Pattern[str]
    motion: MotionType
    direction: str | None = None
    handheld: bool = False
    speed: Speed | None = None


def _p(text: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{text})\b", re.IGNORECASE)


_LR = r"(?:from\s+)?(?:the\s+)?"

_GLIDE = r"(?:drift|slide|glide|move)(?:s|ing)?"


def _gap(opposite: str) -> str:
    """Up to three words between a move and its direction, none of them the opposite one."""
    return rf"(?:(?!{opposite}\b)\w+\s+){{0,3}}?"


MOVES: tuple[MovePattern, ...] = (
    # static first: "no camera movement" must not read as a move
    MovePattern(_p(r"locked[- ]off|lock(?:ed)? down|static (?:shot|camera|frame|wide)|"
                   r"(?:fixed|still|stationary) camera|tripod shot|no camera (?:movement|motion)|"
                   r"camera (?:stays|remains|holds) (?:still|static)|hold the frame|static|"
                   r"keep (?:the )?camera (?:still|static|steady|fixed)|camera (?:is )?still"),
                "static"),
    MovePattern(_p(r"hand[- ]?held|shaky[- ]?cam|shoulder[- ]?rig"), "ken_burns", handheld=True),
    MovePattern(_p(r"ken[- ]burns"), "ken_burns"),
    MovePattern(_p(r"whip[- ]?pan|swish[- ]?pan"), "pan", "left_to_right", speed="fast"),
    MovePattern(_p(rf"pan(?:s|ning)?\s+{_LR}left\s+to\s+(?:the\s+)?right"), "pan", "left_to_right"),
    MovePattern(_p(rf"pan(?:s|ning)?\s+{_LR}right\s+to\s+(?:the\s+)?left"), "pan", "right_to_left"),
    MovePattern(_p(rf"pan(?:s|ning)?\s+{_gap('right')}(?:to\s+the\s+)?left(?:ward)?(?!\s+to\b)|"
                   r"left(?:ward)? pan"), "pan", "right_to_left"),
    MovePattern(_p(rf"pan(?:s|ning)?\s+{_gap('left')}(?:to\s+the\s+)?right(?:ward)?(?!\s+to\b)|"
                   r"right(?:ward)? pan"), "pan", "left_to_right"),
    MovePattern(_p(rf"tilt(?:s|ing)?\s+{_gap('down')}up(?:ward)?|upward tilt"), "tilt", "up"),
    MovePattern(_p(rf"tilt(?:s|ing)?\s+{_gap('up')}down(?:ward)?|downward tilt"), "tilt",
                "down"),
    MovePattern(_p(r"(?:crane|jib|boom|pedestal)(?:s|ing)?\s+(?:shot\s+)?down(?:ward)?|"
                   r"descending (?:crane|camera)"), "crane", "down"),
    MovePattern(_p(r"(?:crane|jib|boom|pedestal)(?:s|ing)?\s+(?:shot\s+)?up(?:ward)?|"
                   r"rising (?:crane|camera)|camera rises"), "crane", "up"),
    MovePattern(_p(r"crane shot|jib shot|crane|jib|pedestal"), "crane", "up"),
    MovePattern(_p(r"(?:orbit|arc)(?:s|ing)?\s+(?:\w+\s+){0,3}?"
                   r"(?:counter[- ]?clockwise|anti[- ]?clockwise)"), "orbit", "counterclockwise"),
    MovePattern(_p(r"orbit(?:s|ing|al)?|arc(?:s|ing)?\s+(?:shot|around|round)|arc shot|"
                   r"circl(?:e|es|ing)\s+(?:around|round)|360[- ]degree|wrap[- ]?around"),
                "orbit", "clockwise"),
    MovePattern(_p(r"(?:truck|crab|track|dolly)(?:s|ing)?\s+(?:to\s+the\s+)?left|"
                   r"lateral(?:ly)? (?:move|track)\w* left|"
                   rf"{_GLIDE}\s+(?:{_LR}right\s+to\s+(?:the\s+)?left|"
                   rf"{_gap('right')}(?:to\s+the\s+)?left(?:ward)?(?!\s+to\b))"), "truck", "left"),
    MovePattern(_p(r"(?:truck|crab|track|dolly)(?:s|ing)?\s+(?:to\s+the\s+)?right|"
                   r"lateral(?:ly)? (?:move|track)\w* right|"
                   rf"{_GLIDE}\s+(?:{_LR}left\s+to\s+(?:the\s+)?right|"
                   rf"{_gap('left')}(?:to\s+the\s+)?right(?:ward)?(?!\s+to\b))"), "truck", "right"),
    MovePattern(_p(r"push[- ]?ins?|push(?:es|ing)?\s+(?:slowly\s+)?(?:in|toward|towards|into)|"
                   r"dolly(?:ing)?[- ]in|zoom(?:s|ing)?[- ]in|slow creep|creep(?:s|ing)?\s+"
                   r"(?:in|toward|towards|forward|closer)|track(?:s|ing)?[- ]in|"
                   r"move(?:s)?\s+(?:in\s+)?closer|close(?:s)? in on"), "push_in"),
    MovePattern(_p(r"pull(?:s|ing)?[- ]?(?:back|out|away)|dolly(?:ing)?[- ](?:out|back)|"
                   r"zoom(?:s|ing)?[- ]out|reveal(?:s|ing)?|widen(?:s|ing)?(?: out)?|"
                   r"back(?:s|ing)? away"), "pull_out"),
    MovePattern(_p(r"truck(?:s|ing)?|crab(?:s|bing)?|tracking shot|tracking|track(?:s)? "
                   r"(?:with|alongside|along)|follows? (?:him|her|them|the)\b"), "truck", "right"),
    MovePattern(_p(r"pan(?:s|ning)?\s+(?:across|over|along)|panoramic sweep|sweep(?:s|ing)? "
                   r"across|pan(?:s|ning)?|panning shot"), "pan", "left_to_right"),
    MovePattern(_p(r"tilt(?:s|ing)?"), "tilt", "up"),
    MovePattern(_p(r"slow drift|drift(?:s|ing)? (?:toward|towards|across|over)"), "ken_burns"),
)

NEGATIONS = re.compile(r"\b(?:no|not|avoid|without|never|don'?t|do not|instead of|rather than)\b",
                       re.IGNORECASE)
"""Words that, just before a phrase, turn it into a move to avoid ("avoid any pans")."""

# --------------------------------------------------------------------------- speed


@dataclass(frozen=True)
class SpeedWord:
    pattern: re.Pattern[str]
    speed: Speed
    motion_scale: float


SPEED_WORDS: tuple[SpeedWord, ...] = (
    SpeedWord(_p(r"barely(?: perceptible)?|imperceptible|almost still|very subtle|very slow(?:ly)?|"
                 r"slow creep|creep(?:s|ing)?"), "slow", 0.6),
    SpeedWord(_p(r"whip|snap(?:py)?|rapid(?:ly)?|fast|quick(?:ly)?|frantic|swift(?:ly)?|"
                 r"explosive|high[- ]energy|urgent"), "fast", 1.0),
    SpeedWord(_p(r"brisk(?:ly)?|energetic|lively|dynamic"), "fast", 0.9),
    SpeedWord(_p(r"steady|moderate(?:ly)?|medium[- ]pace\w*|measured|even[- ]paced"),
              "medium", 0.9),
    SpeedWord(_p(r"subtle|subtly|slow(?:ly)?|gentle|gently|soft(?:ly)?|leisurely|languid|"
                 r"unhurried|calm(?:ly)?|lingering"), "slow", 0.8),
)

SPEED_SCALE: dict[Speed, float] = {"slow": 0.8, "medium": 0.9, "fast": 1.0}
"""The motion scale that goes with a speed band when no word sets it."""

# --------------------------------------------------------------------------- duration

DURATION = re.compile(
    r"(?<![\d.])(?P<value>\d+(?:\.\d+)?)\s*(?:-\s*)?(?P<unit>s\b|secs?\b|seconds?\b)",
    re.IGNORECASE)
BARE_S_MAX = 60.0
"""A bare "s" only reads as seconds up to this value ("the 1920s" is no duration)."""
DURATION_WORDS = re.compile(
    r"\b(?P<word>four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
    r"[- ]seconds?\b", re.IGNORECASE)
NUMBER_WORDS = {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}

# --------------------------------------------------------------------------- scene kinds

SCENE_KINDS: dict[str, re.Pattern[str]] = {
    "action": _p(r"chase[sd]?|chasing|run(?:s|ning)?|ran|sprint\w*|fight\w*|battle\w*|"
                 r"roar\w*|burst\w*|lift(?:s|ing)? off|launch\w*|blast\w*|erupt\w*|"
                 r"explo\w+|leap\w*|jump\w*|race[sd]?|racing|crash\w*|dash\w*|attack\w*|"
                 r"sword\w*|punch\w*|speed(?:s|ing)|flee\w*|escap\w+|skid\w*|swerv\w*|"
                 r"action|collid\w*|tumbl\w*"),
    "dialogue": _p(r"says?|said|talk\w*|conversation\w*|dialogue|argu\w+|whisper\w*|asks?|"
                   r"asked|repl(?:y|ies|ied)|speak\w*|spoke|discuss\w*|confess\w*|tells?|"
                   r"told|exchange\w*|across the table|two[- ]shot|over[- ]the[- ]shoulder"),
    "landscape": _p(r"landscapes?|mountains?|valleys?|ocean|seas?|forests?|horizon|sky|skies|"
                    r"fields?|desert|rivers?|lakes?|vistas?|panorama\w*|hills?|canyons?|"
                    r"coastline|shore|meadows?|glaciers?|waterfalls?|dunes?|countryside"),
    "establishing": _p(r"establishing|skyline|exterior|aerial|overview|city ?scape|"
                       r"the (?:whole|entire) (?:town|city|village|castle|building)|"
                       r"wide shot|opening shot|bird'?s[- ]eye"),
    "object_detail": _p(r"close[- ]?up of (?:a|an|the)|macro|extreme close[- ]?up|insert shot|"
                        r"detail shot|lying on the (?:table|desk|floor)|on the (?:table|desk)"),
}

KIND_NAMES: dict[str, re.Pattern[str]] = {
    "action": _p(r"action (?:scene|moment|shot|sequence)|high[- ]energy"),
    "dialogue": _p(r"dialogue (?:scene|moment)|conversation scene|two[- ]shot"),
    "establishing": _p(r"establishing (?:shot|scene)"),
    "landscape": _p(r"landscape (?:shot|scene)|scenic (?:shot|vista)"),
    "object_detail": _p(r"detail shot|insert shot|close[- ]?up of (?:the|a|an) \w+"),
    "character_focused": _p(r"character (?:moment|scene|focus\w*|study)|portrait shot"),
}
"""A scene kind the Layer 1 manager names outright; it outweighs word counts."""

DETAIL_LIST = re.compile(
    r"(?:important|key) (?:details?|elements?|focus(?: points?)?)\s*:\s*(?P<items>[^\n]+)",
    re.IGNORECASE)
"""A Layer 1 line that lists what matters: "Important details: the cup, the steam"."""
NOT_A_FOCUS = _p(r"light\w*|glow\w*|atmosphere|mood|ambien\w+|sound\w*|colou?rs?|"
                 r"reflections?|shadows?|movements?|motion|pacing|tone")
ARTICLES = re.compile(r"^(?:the|a|an|her|his|their|its|some)\s+", re.IGNORECASE)

PEOPLE = _p(r"girl|boy|woman|women|man|men|barista|child|children|kid|person|people|"
            r"character|hero|heroine|knight|soldier|detective|she|he|her|his|they|couple|"
            r"friends?|mother|father|king|queen|chef|runner|driver|dancer|teacher|student|"
            r"old (?:man|woman)|wizard|witch|girl's|stranger|crowd")
PRIMARY_SUBJECTS = re.compile(
    r"\b(barista|girl|boy|woman|man|child|knight|soldier|detective|runner|driver|dancer|"
    r"chef|teacher|student|wizard|witch|king|queen|couple|stranger|hero|heroine|mother|father|"
    r"crowd|friends|car|train|ship|city|forest|mountains?|lake|ocean|valley|village|castle)\b",
    re.IGNORECASE)
PLACES = _p(r"caf[eé]|cafe|room|kitchen|street|road|forest|office|shop|store|bar|restaurant|"
            r"city|town|village|house|castle|station|market|garden|park|beach|counter|"
            r"library|classroom|studio|hall|alley|bridge|field|mountains?|valley")
PROPS = _p(r"holding|holds|carr(?:y|ies|ying)|grips?|clutch\w*|menu|book|cup|mug|sword|"
           r"phone|letter|lantern|umbrella|bag|guitar|map|flower|bouquet|glass")

ATMOSPHERE = _p(r"atmosphere|atmospheric|mood\w*|cozy|cosy|warm|inviting|serene|misty|"
                r"dreamy|moody|melanchol\w*|nostalgic|tranquil|peaceful|ambien\w+|ethereal")
CALM_WORDS = _p(r"quiet|calm|still|serene|peaceful|tranquil|gentle|slow|lingering|contemplat\w*")

# --------------------------------------------------------------------------- focus points

FOCUS_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("face", _p(r"faces?|facial|expressions?|eyes|smile\w*|gaze|character features|"
                r"features|lips|tears?")),
    ("hair", _p(r"hair")),
    ("hands", _p(r"hands?|fingers")),
)
"""Body focus points; objects come from :data:`OBJECT_NOUNS`."""

OBJECT_NOUNS = re.compile(
    r"\b((?:menu|note|sketch|story|picture|spell|coffee|tea|wine|beer|paper|old|leather)\s+)?"
    r"(book|cup|mug|letter|sword|phone|lantern|umbrella|bag|guitar|map|flower|bouquet|"
    r"glass|ring|watch|clock|candle|photograph|photo|violin|piano|bicycle|car|horse|"
    r"boat|ship|train|kite|balloon)s?\b",
    re.IGNORECASE)
HIGH_DETAIL = _p(r"high detail|highly detailed|fine detail|maintain(?:ing)? (?:\w+ ){0,2}detail|"
                 r"preserv\w+ (?:\w+ ){0,2}detail|detail retention|sharp(?:ness)?|crisp|"
                 r"keep (?:\w+ ){0,2}detail(?:ed)?|detailed faces?")
IMAGE_DETAIL_TAGS = _p(r"8k|4k|uhd|hyperrealistic|hyper-realistic|highly detailed|detailed|"
                       r"intricate|photorealistic|ultra[- ]detailed")

# --------------------------------------------------------------------------- light & style

TIMES_OF_DAY = _p(r"morning|dawn|sunrise|noon|midday|afternoon|golden hour|sunset|dusk|"
                  r"twilight|evening|night|midnight|moonlight|moonlit")
LIGHT = _p(r"light\w*|sun\w*|glow\w*|shadows?|reflections?|candle\w*|neon|lamp\w*|"
           r"flicker\w*|rays?|beams?")
LIGHT_DYNAMICS = _p(r"light (?:interactions?|dynamics)|reflections?|catch(?:es)? the light|"
                    r"stream(?:s|ing)|flicker\w*|dappled|shimmer\w*|glint\w*|sparkl\w*|"
                    r"moving shadows|shafts? of light|god ?rays")
WARM = _p(r"warm|cozy|cosy|golden|inviting|amber|candle\w*")
COOL = _p(r"cold|cool|icy|blue|moonlit|moonlight|bleak|grey|gray")

STYLE_TAGS = re.compile(
    r"\b(photorealistic|cinematic(?: composition| lighting)?|anime|watercolou?r|oil painting|"
    r"film grain|35mm|noir|pastel|soft (?:morning |evening )?glow|detailed lighting|"
    r"dramatic lighting|volumetric light(?:ing)?|shallow depth of field|bokeh|"
    r"professional photography|studio ghibli style|illustration|3d render|concept art|"
    r"vintage|documentary style)\b",
    re.IGNORECASE)
IMAGE_ONLY_TAGS = _p(r"8k(?: uhd)?|4k|uhd|hd|masterpiece|best quality|trending on \w+|"
                     r"hyperrealistic|highly detailed|high resolution")

# --------------------------------------------------------------------------- negative prompt

STILL_ONLY_NEGATIVE = _p(
    r"extra (?:limbs?|fingers?|arms?|legs?|heads?)|missing (?:limbs?|fingers?|arms?|legs?)|"
    r"(?:poorly|badly) drawn (?:\w+ )?\w+|bad (?:hands?|fingers?|proportions)|"
    r"mutated hands?|fused fingers|too many fingers|amateur\w*|unprofessional|ugly|"
    r"bad art|worst quality|normal quality|jpe?g artifacts?|cropped|out of frame|"
    r"signature|username|lowres|bad composition")
"""Negative-prompt terms about drawing the still ("extra limbs", "poorly drawn hands") or taste
("amateur"): the still already exists, so they are left out of the clip's negative prompt."""
NEGATIVE_MAX_TERMS = 6
DEFAULT_NEGATIVE = "blurry, low quality"


def to_snake(text: str) -> str:
    """``"Menu Book"`` -> ``"menu_book"``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def is_negated(text: str, start: int) -> bool:
    """Whether the words just before ``start`` negate the phrase found there."""
    window = text[max(0, start - 30):start]
    window = re.split(r"[.;:\n,]", window)[-1]
    return bool(NEGATIONS.search(window))
