"""Conversation test results shown as text for people and JSON for machines (the CLI adds GitHub annotations).

CI logs are searched for "fail", "error" and "mismatch", so a passing file is never printed on a line that
holds one of those words; a passing file whose own path holds one is shown by its number instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from reconciler.conversation.runner import FileResult
from reconciler.errors import Diagnostic
from reconciler.redaction import one_line
from reconciler.words import counted

ALARM_WORDS = re.compile(r"fail|error|mismatch", re.IGNORECASE)
FORMAT_VERSION = 1


def passing_line(index: int, result: FileResult) -> str:
    counts = f"({counted(len(result.conversation.turns), 'turn')}, {counted(result.tool_calls, 'tool call')})"
    line = one_line(f"ok    {result.spec.file} {counts}")
    if ALARM_WORDS.search(line):
        line = f"ok    conversation file #{index} {counts}"
    return line


def render_text(results: Sequence[FileResult]) -> list[str]:
    lines = []
    for index, result in enumerate(results, start=1):
        if result.passed:
            lines.append(passing_line(index, result))
        else:
            lines.append(one_line(f"FAIL  {result.spec.file}"))
            lines.extend(f"  {failure}" for failure in result.failures)
    return lines


def render_json(results: Sequence[FileResult], diagnostics: Sequence[Diagnostic] = ()) -> str:
    """The report for machines; `diagnostics` are the problems of broken files (then nothing ran)."""
    report: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "ok": all(result.passed for result in results) and not any(d.severity == "error" for d in diagnostics),
        "diagnostics": [d.as_record() for d in diagnostics],
        "conversations": [
            {
                "file": result.spec.file,
                "name": result.spec.name,
                "ok": result.passed,
                "turns": len(result.conversation.turns),
                "tool_calls": result.tool_calls,
                "problems": [
                    {"file": f.location.file, "line": f.location.line, "message": f.message} for f in result.failures
                ],
            }
            for result in results
        ],
    }
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False)


def summary(results: Sequence[FileResult]) -> str:
    bad = sum(not result.passed for result in results)
    files = counted(len(results), "conversation")
    return f"{files} passed" if not bad else f"{bad} of {files} failed"


__all__ = ["ALARM_WORDS", "passing_line", "render_json", "render_text", "summary"]
