"""Value types the contracts share: a frame size (``Resolution``) and a range of seconds
(``Seconds``), each parsed, formatted and checked in one place.

Both are named tuples, so code that unpacks ``width, height`` or ``low, high`` keeps working,
and state, metadata and CLI flags keep their plain forms ("1280x720", numbers).
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

SPEC_MIN_WIDTH, SPEC_MIN_HEIGHT = 1024, 576

_WXH = re.compile(r"\s*([0-9]{1,6})\s*[xX]\s*([0-9]{1,6})\s*")


class FieldValueError(ValueError):
    """A setting or input value that cannot be used, with the field it came from."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Resolution(NamedTuple):
    """A frame size in pixels; ``str()`` gives the "WIDTHxHEIGHT" form stored everywhere."""

    width: int
    height: int

    @classmethod
    def parse(cls, text: str, field: str = "resolution") -> Resolution:
        """``"1280x720"`` (any case of ``x``, spaces around the numbers) -> ``Resolution``."""
        match = _WXH.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise FieldValueError(field, f"{text!r} is not WIDTHxHEIGHT (e.g. 1280x720)")
        width, height = int(match[1]), int(match[2])
        if not width or not height:
            raise FieldValueError(field, f"{text!r} has a zero side")
        return cls(width, height)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def ratio(self) -> float:
        return self.width / self.height

    def at_least(self, other: Resolution) -> Resolution:
        """Each side at least ``other``'s."""
        return Resolution(max(self.width, other.width), max(self.height, other.height))

    def checked_for_spec(self, field: str = "resolution") -> Resolution:
        """Itself if the spec accepts it as a stored clip's size: 16:9, even sides, at least
        1024x576."""
        if (self.width < SPEC_MIN_WIDTH or self.height < SPEC_MIN_HEIGHT
                or self.width * 9 != self.height * 16 or self.width % 2 or self.height % 2):
            raise FieldValueError(field, f"{self} must be 16:9, even and at least "
                                  f"{SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT} (e.g. 1280x720, 1920x1080)")
        return self


SPEC_MIN_RESOLUTION = Resolution(SPEC_MIN_WIDTH, SPEC_MIN_HEIGHT)


class Seconds(NamedTuple):
    """A closed range of durations in seconds, ``low <= d <= high``."""

    low: float
    high: float

    def holds(self, value: object) -> bool:
        """Whether ``value`` is a finite number of seconds inside the range."""
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and self.low <= value <= self.high)

    def clamp(self, value: float) -> float:
        return min(max(value, self.low), self.high)

    def check(self, value: float, field: str) -> float:
        """``value`` if inside, else a ``FieldValueError`` naming ``field`` and the range."""
        if not self.holds(value):
            raise FieldValueError(field, f"{value!r} s is outside {self.low:g}-{self.high:g} s")
        return float(value)


CLIP_SECONDS = Seconds(4.0, 10.0)
"""How long a clip of the spec may be."""
