"""The counts and name lists every message shares (reconciler/words.py)."""

from __future__ import annotations

from reconciler.words import counted, listed


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert [counted(n, "tool") for n in (0, 1, 2)] == ["0 tools", "1 tool", "2 tools"]


def test_a_long_list_of_names_shows_its_first_ones_and_how_many_more() -> None:
    names = [f"t{n}" for n in range(12)]
    assert listed(names) == "t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 and 2 more"
    assert listed(names[:10]) == ", ".join(names[:10])  # exactly the limit: nothing left to count
    assert listed(names, limit=2) == "t0, t1 and 10 more"
