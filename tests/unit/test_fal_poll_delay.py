"""How long the fal provider waits between status polls."""

import pytest

from video_agent.adapters.providers.fal.provider import POLL_FIRST_S, poll_delay


@pytest.mark.parametrize(("age", "expected"), [(0.0, POLL_FIRST_S), (0.5, POLL_FIRST_S),
                                               (3.0, 0.3), (4.0, 0.4), (60.0, 0.5)])
def test_a_poll_waits_a_tenth_of_the_requests_age_up_to_the_longest(age: float,
                                                                     expected: float) -> None:
    assert poll_delay(age, 0.5) == pytest.approx(expected)


def test_a_request_of_minutes_is_polled_no_more_often_than_the_longest_interval() -> None:
    age, polls = 0.0, 0
    while age < 120.0:
        age += poll_delay(age, 0.5)
        polls += 1
    # 10 polls in the first second, 16 while the wait grows to 0.5 s, then one every 0.5 s
    assert 240 <= polls <= 240 + 30
