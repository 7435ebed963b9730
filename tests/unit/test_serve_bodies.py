"""Hostile request bodies against the API: always a JSON answer, 4xx naming the field for a bad
body, never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from video_agent.serve import create_app
from video_agent.story import Story

GOOD = {"story_id": "cafe", "scenes": [
    {"scene_number": 1, "scene_content": "x", "image_url": "https://example.org/a.jpg"}]}


class InstantRunner:
    """A ``run_story`` stand-in that records the story and finishes at once."""

    def __init__(self) -> None:
        self.calls: list[Story] = []

    async def __call__(self, story: Story, ctx: Any, *, max_concurrency: int,
                       on_event: Any) -> Any:
        self.calls.append(story)
        return None


def story(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def scene(**changes: Any) -> bytes:
    return json.dumps({**GOOD, "scenes": [{**GOOD["scenes"][0], **changes}]}).encode()


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(("body", "headers", "status", "field", "needle"), [
    (b"{nope", JSON, 400, "body", "not valid JSON"),
    (b"", JSON, 400, "body", "not valid JSON"),
    (story(), {"content-type": "text/plain"}, 415, "content-type", "expected application/json"),
    (story(), {"content-type": "application/x-www-form-urlencoded"}, 415, "content-type", ""),
    (story(), {"content-type": "application/json; charset=latin-1"}, 415, "content-type",
     "UTF-8"),
    (story().replace(b"cafe", b"caf\xe9"), JSON, 400, "body", "not valid UTF-8"),
    (b"[" * 5000 + b"]" * 5000, JSON, 400, "body", "nested deeper than 64"),
    (story().replace(b'"x"', b"NaN"), JSON, 400, "body", "NaN"),
    (story().replace(b'"x"', b"1e999"), JSON, 400, "body", "out of range"),
    (b"\xff\xfe" + story(), JSON, 400, "body", "UTF-16"),
    (b"[]", JSON, 400, "story", "must be a JSON object"),
    (story(story_id="cafe\n"), JSON, 400, "story_id", "control character"),
    (story(story_id=5), JSON, 400, "story_id", "non-empty string"),
    (story(scenes="all"), JSON, 400, "scenes", "non-empty list"),
    (story(narration={"1": {"duration": 1.7e308}}), JSON, 400, "narration['1'].duration", "3600"),
    (story(narration={"1": {"duration": "5"}}), JSON, 400, "narration['1'].duration", "number"),
    (scene(scene_number=10**30), JSON, 400, "scenes[0].scene_number", "from 1 to"),
    (scene(scene_numbr=1), JSON, 400, "scenes[0].scene_numbr", "did you mean scene_number?"),
    (scene(image_url="http://[::1/a.jpg"), JSON, 400, "scenes[0].image_url", "not a usable"),
    (scene(image_url="/a\x00b.jpg"), JSON, 400, "scenes[0].image_url", "NUL byte"),
    (scene(image_url="file:///a%00b.jpg"), JSON, 400, "scenes[0].image_url", "NUL byte"),
    (scene(image_path="~nobody_here/a.jpg"), JSON, 400, "scenes[0].image_path", "'~' paths"),
    (story(scenes=[{"scene_number": n} for n in range(1, 502)]), JSON, 400, "scenes",
     "more than the limit of 500"),
    (story(extra=1), JSON, 400, "extra", "unknown key extra"),
])
def test_bad_bodies_get_a_json_4xx_naming_the_field(tmp_path: Path, body: bytes, headers: dict,
                                                    status: int, field: str,
                                                    needle: str) -> None:
    runner = InstantRunner()
    with TestClient(create_app(tmp_path / "out", runner=runner),
                    raise_server_exceptions=False) as http:
        response = http.post("/api/stories", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["field"] == field and needle in answer["error"], answer
    assert runner.calls == []


def test_oversize_bodies_are_413_json(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "out", max_body_bytes=100)) as http:
        response = http.post("/api/stories", content=b" " * 101, headers=JSON)
        assert (response.status_code, response.json()["field"]) == (413, "body")
        huge = http.post("/api/stories", content=b"{}",
                         headers={**JSON, "content-length": "9" * 40})
        assert huge.status_code in (400, 413) and huge.json()["error"]


def test_a_good_body_still_starts_a_run(tmp_path: Path) -> None:
    runner = InstantRunner()
    with TestClient(create_app(tmp_path / "out", runner=runner)) as http:
        response = http.post("/api/stories", content=b"\xef\xbb\xbf" + story(), headers={
            "content-type": "application/json; charset=utf-8"})
        assert response.status_code == 202, response.text
    assert runner.calls[0].story_id == "cafe"


# --------------------------------------------------------------------------- properties

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10),
                    st.sampled_from(["cafe", "\x00", "a\nb", "http://[::1", "file:///etc",
                                     "~/x", "../x"]))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["story_id", "scenes", "narration", "title",
                                         "scene_number", "scene_content", "image_url",
                                         "image_path", "duration", "1", "x"]), inner,
                        max_size=4)),
    max_leaves=15)
stories = st.fixed_dictionaries(
    {"story_id": st.one_of(st.just("cafe"), scalars)},
    optional={"scenes": st.lists(st.dictionaries(st.sampled_from(
        ["scene_number", "scene_content", "image_url", "image_path", "scene_numbr"]), scalars,
        max_size=4), max_size=3), "narration": json_values})
bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    stories.map(lambda v: json.dumps(v).encode()),
    st.tuples(stories, st.integers(0, 60), st.binary(max_size=4)).map(
        lambda t: json.dumps(t[0]).encode()[:t[1]] + t[2] + json.dumps(t[0]).encode()[t[1]:]))
content_types = st.one_of(st.none(), st.sampled_from([
    "application/json", "application/json; charset=utf-8", "text/plain", "application/ld+json",
    "multipart/form-data; boundary=x", "application/json; charset=utf-16", ""]))


def test_any_body_gets_a_json_answer_and_never_a_server_error(tmp_path: Path) -> None:
    runner = InstantRunner()
    with TestClient(create_app(tmp_path / "out", runner=runner),
                    raise_server_exceptions=False) as http:

        @settings(max_examples=250, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(body=bodies, content_type=content_types,
               path=st.sampled_from(["/api/stories", "/api/stories?force=1",
                                     "/api/stories/cafe/cancel",
                                     "/api/stories/cafe/scenes/1/rerun"]))
        def check(body: bytes, content_type: str | None, path: str) -> None:
            headers = {} if content_type is None else {"content-type": content_type}
            response = http.post(path, content=body, headers=headers)
            assert 200 <= response.status_code < 500, (response.status_code, response.text)
            assert response.headers["content-type"] == "application/json"
            answer = response.json()
            if response.status_code >= 400:
                assert isinstance(answer["error"], str) and answer["error"]

        check()
