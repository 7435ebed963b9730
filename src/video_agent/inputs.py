"""Limits and checks for what enters from outside: story files, API bodies, graph input.

Everything here turns a hostile value into an :class:`InputError` that names the field and the
reason, before the value reaches a node, a file name or a checkpoint.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

MAX_STORY_BYTES = 8 * 1024 * 1024
"""Largest story file (or posted story body) read."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a story."""
DEFAULT_MAX_SCENES = 500
"""Scenes per story unless the run's context says otherwise."""
MAX_SCENE_NUMBER = 1_000_000_000
MAX_NARRATION_S = 3600.0
MAX_TEXT_CHARS = 100_000
"""Longest scene text, image prompt, Layer 1 analysis or narration text."""
MAX_REF_CHARS = 4096
"""Longest image path or URL."""
INT64 = (-(2**63), 2**63 - 1)
"""Integers any checkpointer stores (msgpack, JSON columns)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENING, _CLOSING = list(b"[{"), list(b"]}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


class InputError(ValueError):
    """A value from outside that cannot be used; ``field`` names where it was."""

    def __init__(self, field: str, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"{field}: {reason}")
        self.field = field
        self.reason = reason


def json_depth(text: str | bytes) -> int:
    """How deeply arrays and objects nest in ``text``, without parsing it (no recursion):
    strings are cut out, then the running count of brackets is taken in one vector pass."""
    import numpy as np

    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    codes = np.frombuffer(_STRING.sub(b"", data), dtype=np.uint8)
    steps = (np.isin(codes, _OPENING).astype(np.int32) - np.isin(codes, _CLOSING))
    return int(np.cumsum(steps).max(initial=0))


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(data: bytes, *, field: str = "story", max_bytes: int = MAX_STORY_BYTES,
              max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON document given as bytes, with every limit checked first.

    UTF-8 only (a leading UTF-8 byte order mark is skipped); NaN, Infinity and numbers beyond a
    double are refused, as is nesting deeper than ``max_depth``.
    """
    if len(data) > max_bytes:
        raise InputError(field, f"larger than {max_bytes} bytes")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise InputError(field, f"encoded as {encoding}; save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(field, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                                f"{exc.start})") from None
    if json_depth(data) > max_depth:
        raise InputError(field, f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except ValueError as exc:  # syntax, and the refusals of _finite and _no_constant
        raise InputError(field, f"not valid JSON ({exc})") from None


def check_json_value(value: Any, field: str) -> None:
    """Every number storable (finite, integers in int64) and every string valid Unicode."""
    stack: list[tuple[Any, str]] = [(value, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise InputError(where or "value",
                                     "a key holds an unpaired surrogate (\\ud800-\\udfff)")
                stack.append((child, f"{where}.{shown_key(key)}" if where else shown_key(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and not INT64[0] <= item <= INT64[1]:
            raise InputError(where or "value", "integer out of range (more than 64 bits)")
        elif isinstance(item, float) and not math.isfinite(item):
            raise InputError(where or "value", f"{item} is not a finite number")
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise InputError(where or "value", "holds an unpaired surrogate (\\ud800-\\udfff)")


def shown_key(key: Any) -> str:
    """A key as it may appear in a field name: itself if plainly printable, else escaped
    (``'\\n'``); at most 60 characters."""
    text = key if isinstance(key, str) else repr(key)
    if not text or not text.isprintable() or text.strip() != text or _SURROGATE.search(text):
        text = ascii(text)
    return text if len(text) <= 60 else text[:57] + "..."


def check_keys(given: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Refuse the first key not in ``allowed``, suggesting the nearest allowed one:
    ``unknown key scenes[1].scene_numbr; did you mean scene_number?``."""
    allowed = list(allowed)
    for key in given:
        if key in allowed:
            continue
        name = f"{where}.{shown_key(key)}" if where else shown_key(key)
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(allowed)}"
        raise InputError(name, f"unknown key; {hint}", f"unknown key {name}; {hint}")


def check_plain(value: str, field: str) -> str:
    """A path, URL or id: no NUL byte, no control character (newline, tab, escape...)."""
    found = _CONTROL.search(value)
    if found:
        what = "a NUL byte" if found.group() == "\x00" else (
            f"a control character ({found.group()!r})")
        raise InputError(field, f"contains {what}")
    return value


def first_error(exc: ValidationError, where: str = "") -> InputError:
    """A pydantic ``ValidationError`` as one line naming its first field (``where`` prefixed)."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    field = ".".join(p for p in (where, loc) if p) or "value"
    return InputError(field, str(first["msg"]).removeprefix("Value error, "))
