"""Conversation files (`conversations.d/`, DESIGN §9) → checked `ConversationSpec`s that remember their lines.

One YAML or JSON file per conversation, read with the same loader as `tools.d/` (positions, `${VAR}`,
hostile-input limits). Every problem is collected as a Diagnostic with file:line, none raised one by one:
unknown keys ("did you mean"), wrong types, a stub or an expected call naming no tool of `tools.d/`.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import Diagnostic, InputError
from reconciler.load import Document, display_path, interpolate, read_documents
from reconciler.load.files import discover
from reconciler.model import SourceLocation

DEFAULT_DIRECTORY = "conversations.d"
FILE_KEYS = ("name", "state", "stubs", "turns", "system", "max_turns")
TURN_KEYS = ("user", "expect", "script")
EXPECT_KEYS = ("tool_calls", "reply_contains")
CALL_KEYS = ("name", "arguments", "status")
STEP_KEYS = ("content", "tool_calls", "repeat")
SCRIPTED_CALL_KEYS = ("name", "arguments", "id")


@dataclass(frozen=True)
class ExpectedCall:
    name: str
    arguments: Mapping[str, Any]
    status: str
    location: SourceLocation


@dataclass(frozen=True)
class TurnSpec:
    user: str
    location: SourceLocation
    expected_calls: tuple[ExpectedCall, ...] = ()
    reply_contains: tuple[tuple[str, SourceLocation], ...] = ()
    script: tuple[Mapping[str, Any], ...] | None = None


@dataclass(frozen=True)
class ConversationSpec:
    file: str
    name: str
    location: SourceLocation
    turns: tuple[TurnSpec, ...]
    state: Mapping[str, Any] = field(default_factory=dict)
    stubs: Mapping[str, Any] = field(default_factory=dict)
    system: str | None = None
    max_turns: int | None = None


@dataclass
class LoadedConversations:
    conversations: list[ConversationSpec] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def raise_for_errors(self) -> None:
        if any(d.severity == "error" for d in self.diagnostics):
            raise InputError(self.diagnostics)


def load_conversations(directory: Path, environ: Mapping[str, str], tool_names: Collection[str]) -> LoadedConversations:
    loaded = LoadedConversations()
    if not directory.is_dir():
        raise InputError.at(
            SourceLocation.path(display_path(directory)),
            "no such directory; pass the folder that holds your conversation files (default: conversations.d)",
            "io",
        )
    for path in discover(directory):
        try:
            documents = read_documents(path)
        except InputError as exc:
            loaded.diagnostics.extend(exc.diagnostics)
            continue
        if not documents:
            continue
        for extra in documents[1:]:
            loaded.diagnostics.append(
                Diagnostic("error", extra.location, "one conversation per file; move this one to a file of its own")
            )
        document = documents[0]
        if isinstance(document.content, dict):
            interpolate(document.content, document.file, environ, loaded.diagnostics, loaded.variables)
        checker = _Checker(document, set(tool_names))
        spec = checker.conversation()
        loaded.diagnostics.extend(checker.diagnostics)
        if spec is not None and not checker.diagnostics:
            loaded.conversations.append(spec)
    if not loaded.conversations and not loaded.diagnostics:
        # as pytest's "no tests collected": a CI job whose conversation files went missing must not stay green
        raise InputError.at(
            SourceLocation.path(display_path(directory)),
            "no conversation files (.yaml, .yml or .json) to run; add one (the format is in docs/conversations.md), "
            "or pass the folder that holds them: reconciler test FOLDER",
            "empty",
        )
    return loaded


class _Checker:
    def __init__(self, document: Document, tool_names: set[str]) -> None:
        self.document = document
        self.tool_names = tool_names
        self.diagnostics: list[Diagnostic] = []

    def error(self, path: tuple[str | int, ...], message: str, code: str = "invalid") -> None:
        self.diagnostics.append(Diagnostic("error", self.document.locate(*path), message, code))

    def mapping(
        self, value: Any, path: tuple[str | int, ...], keys: tuple[str, ...], required: tuple[str, ...]
    ) -> bool:
        where = ".".join(str(part) for part in path) or "the file"
        if not isinstance(value, dict):
            # the file itself has no key to quote: say what it is and which keys it takes
            message = (
                f"'{where}' must be a mapping"
                if path
                else f"a conversation file must be a mapping of {', '.join(keys)}"
            )
            self.error(path, message, "type")
            return False
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(keys)}"
                self.error((*path, key), f"unknown key '{key}' in {where}; {hint}", "unknown-key")
        for key in required:
            if key not in value:
                self.error(path, f"missing required key '{key}' in {where}", "required")
        return True

    def typed(self, value: Any, path: tuple[str | int, ...], kind: type | tuple[type, ...], what: str) -> bool:
        if isinstance(value, kind) and (bool in _kinds(kind) or not isinstance(value, bool)):
            return True
        self.error(path, f"'{'.'.join(str(p) for p in path)}' must be {what}", "type")
        return False

    def tool(self, name: str, path: tuple[str | int, ...], role: str) -> None:
        if name in self.tool_names:
            return
        close = difflib.get_close_matches(name, sorted(self.tool_names), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        self.error(path, f"{role} '{name}' names no tool of the tools directory{hint}", "unknown-tool")

    def conversation(self) -> ConversationSpec | None:
        content = self.document.content
        if not self.mapping(content, (), FILE_KEYS, ("name", "turns")):
            return None
        name, state, stubs = content.get("name"), content.get("state", {}), content.get("stubs", {})
        system, bound = content.get("system"), content.get("max_turns")
        if "name" in content:  # a missing one is said once, as missing
            self.typed(name, ("name",), str, "a string")
        if system is not None:
            self.typed(system, ("system",), str, "a string")
        self.typed(state, ("state",), dict, "a mapping of conversation state (user_id, session_token, …)")
        if self.typed(stubs, ("stubs",), dict, "a mapping of tool name to the output to use"):
            for tool in stubs:
                self.tool(str(tool), ("stubs", tool), "stub")
        if bound is not None and (not self.typed(bound, ("max_turns",), int, "a whole number") or not 1 <= bound <= 49):
            self.error(("max_turns",), "'max_turns' must be between 1 and 49 model calls per turn", "range")
        turns = content.get("turns")
        if not isinstance(turns, list) or not turns:
            if "turns" in content:
                self.error(("turns",), "'turns' must be a non-empty list of {user, expect, script}", "type")
            return None
        specs = [self.turn(turn, ("turns", index)) for index, turn in enumerate(turns)]
        if self.diagnostics:
            return None
        return ConversationSpec(
            file=self.document.file,
            name=str(name),
            location=self.document.location,
            turns=tuple(spec for spec in specs if spec is not None),
            state=dict(state),
            stubs=dict(stubs),
            system=system,
            max_turns=bound,
        )

    def turn(self, turn: Any, path: tuple[str | int, ...]) -> TurnSpec | None:
        if not self.mapping(turn, path, TURN_KEYS, ("user",)):
            return None
        user = turn.get("user")
        if "user" in turn:  # a missing one is said once, as missing
            self.typed(user, (*path, "user"), str, "a string: what the user says")
        expected: list[ExpectedCall] = []
        contains: list[tuple[str, SourceLocation]] = []
        expect = turn.get("expect")
        if expect is not None and self.mapping(expect, (*path, "expect"), EXPECT_KEYS, ()):
            calls = expect.get("tool_calls", [])
            if self.typed(calls, (*path, "expect", "tool_calls"), list, "a list of {name, arguments}"):
                for index, call in enumerate(calls):
                    found = self.expected_call(call, (*path, "expect", "tool_calls", index))
                    if found is not None:
                        expected.append(found)
            texts = expect.get("reply_contains", [])
            texts = [texts] if isinstance(texts, str) else texts
            where = (*path, "expect", "reply_contains")
            if self.typed(texts, where, list, "a string or a list of strings"):
                for index, text in enumerate(texts):
                    if self.typed(text, (*where, index), str, "a string"):
                        contains.append((text, self.document.locate(*where, index)))
        script = turn.get("script")
        if script is not None:
            self.script(script, (*path, "script"))
        return TurnSpec(
            user=str(user),
            location=self.document.locate(*path, "user"),
            expected_calls=tuple(expected),
            reply_contains=tuple(contains),
            script=tuple(script) if isinstance(script, list) else None,
        )

    def expected_call(self, call: Any, path: tuple[str | int, ...]) -> ExpectedCall | None:
        if not self.mapping(call, path, CALL_KEYS, ("name",)):
            return None
        name, arguments, status = call.get("name"), call.get("arguments", {}), call.get("status", "success")
        if self.typed(name, (*path, "name"), str, "a tool name"):
            self.tool(name, (*path, "name"), "expected call of")
        self.typed(arguments, (*path, "arguments"), dict, "a mapping (matched as a subset of the call's arguments)")
        if status not in ("success", "error"):
            self.error((*path, "status"), f"'status' is {status!r}; use one of: success, error", "enum")
        return ExpectedCall(
            str(name), dict(arguments) if isinstance(arguments, dict) else {}, str(status), self.document.locate(*path)
        )

    def script(self, script: Any, path: tuple[str | int, ...]) -> None:
        if not self.typed(script, path, list, "a list of model answers ({content} or {tool_calls})"):
            return
        for index, step in enumerate(script):
            where = (*path, index)
            if not self.mapping(step, where, STEP_KEYS, ()):
                continue
            if "content" not in step and "tool_calls" not in step:
                self.error(where, "a script step needs 'content' or 'tool_calls'", "required")
            if "content" in step:
                self.typed(step["content"], (*where, "content"), str, "a string")
            if "repeat" in step:
                self.typed(step["repeat"], (*where, "repeat"), bool, "true or false")
                if step["repeat"] and index != len(script) - 1:
                    self.error((*where, "repeat"), "only the last step of a script can repeat", "invalid")
            calls = step.get("tool_calls", [])
            if self.typed(calls, (*where, "tool_calls"), list, "a list of {name, arguments}"):
                for position, call in enumerate(calls):
                    at = (*where, "tool_calls", position)
                    if self.mapping(call, at, SCRIPTED_CALL_KEYS, ("name",)):
                        self.typed(call.get("name"), (*at, "name"), str, "a tool name")
                        self.typed(call.get("arguments", {}), (*at, "arguments"), dict, "a mapping (a JSON object)")
                        if "id" in call:
                            self.typed(call["id"], (*at, "id"), str, "a string")


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


__all__ = [
    "DEFAULT_DIRECTORY",
    "ConversationSpec",
    "ExpectedCall",
    "LoadedConversations",
    "TurnSpec",
    "load_conversations",
]
