"""The suite fails for what the code does, never for how busy the machine is (tests/conftest.py): the property
tests check the same examples on every run and have no deadline."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st


def test_an_example_slowed_down_by_a_busy_machine_is_not_a_failure() -> None:
    busy = [True]

    @given(st.integers())
    def law(number: int) -> None:
        if busy:  # the first example ran while other processes had both cores
            busy.clear()
            time.sleep(0.3)  # past Hypothesis's default deadline (200 ms, 250 while generating)

    law()


def test_every_run_checks_the_same_examples() -> None:
    def examples() -> list[str]:
        seen: list[str] = []

        @given(st.text(max_size=30))
        def law(text: str) -> None:
            seen.append(text)

        law()
        return seen

    assert examples() == examples()
