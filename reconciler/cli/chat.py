"""`reconciler chat [DIR]`: one conversation with the LLM gateway, the tools of DIR run by the runtime.

The gateway is found like plan and apply find the API (`GENESYS_CLOUD_API_URL` or the region, a token from
the client credentials); with no credentials it is the embedded emulator, whose model, given no script,
answers plainly. On a terminal it reads one message after another; otherwise `--message` or one line of
stdin is one turn, and the final answer is printed on stdout.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import click

from reconciler.api import ApiClient, RetryPolicy, Target, resolve_target
from reconciler.cli.common import directory_argument, load_desired
from reconciler.cli.interrupts import run_interruptible
from reconciler.cli.output import Output
from reconciler.conversation import (
    DEFAULT_MAX_MODEL_CALLS,
    DEFAULT_MODEL,
    MAX_MODEL_CALLS_LIMIT,
    Conversation,
    GatewayClient,
    TurnResult,
    in_daemon_thread,
    run_turn,
    transcript,
)
from reconciler.conversation.printable import printable, printable_json
from reconciler.errors import Diagnostic, InputError, ReconcilerError
from reconciler.load import interpolate, read_documents
from reconciler.model import SourceLocation
from reconciler.runtime import Runtime

GATEWAY_TIMEOUT = 60.0
"""Seconds one completion request may take (a model thinking over many tools is slower than a registry call)."""

max_turns_option = click.option(
    "--max-turns",
    type=click.IntRange(1, MAX_MODEL_CALLS_LIMIT),
    default=DEFAULT_MAX_MODEL_CALLS,
    show_default=True,
    help="At most this many model calls per user message (the turn bound).",
)
model_option = click.option(
    "--model", default=DEFAULT_MODEL, show_default=True, help="The model name sent to the gateway."
)


@contextlib.contextmanager
def open_gateway(
    environ: Mapping[str, str], *, model: str, debug: bool, notice: Callable[[str], None] | None = None
) -> Iterator[tuple[GatewayClient, str]]:
    """The gateway of the configured org, or of an embedded emulator (in memory), and a line saying which.
    `notice` hears of long waits (a 429's Retry-After, a slow answer), as plan's stderr does."""
    target = resolve_target(environ)
    retry = RetryPolicy(notice=notice)
    if target is not None:
        with ApiClient(target, timeout=GATEWAY_TIMEOUT, retry=retry) as client:
            yield GatewayClient(client, model=model), f"gateway: {target.description}"
        return

    from reconciler.emulator import EmulatorConfig, run_emulator

    with run_emulator(EmulatorConfig(log_requests=debug)) as running:
        description = "the embedded emulator (scripted model; no credentials set)"
        local = Target(api_url=running.url, login_url=running.url, description=description, credentials=None)
        with ApiClient(local, timeout=GATEWAY_TIMEOUT, retry=retry) as client:
            yield GatewayClient(client, model=model), f"gateway: {description}"


def read_line() -> str:
    """One line of stdin; bytes that are not UTF-8 come back as lone surrogates (see `not_utf8`), so a stray
    Latin-1 byte is a message to refuse, not a decoding error that ends the conversation."""
    if isinstance(sys.stdin, io.TextIOWrapper) and sys.stdin.errors != "surrogateescape":
        sys.stdin.reconfigure(errors="surrogateescape")  # the text layer still reads: a daemon thread may wait in it
    return sys.stdin.readline()


def not_utf8(text: str) -> str | None:
    """Why `text` cannot go into a JSON request (undecodable bytes, kept by Python as lone surrogates), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        byte = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        return f"not UTF-8 text ({byte} at character {exc.start + 1})"
    return None


def read_state(path: Path | None, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The conversation state of `--state FILE` (YAML or JSON mapping), its `${VAR}` read as a conversation
    file's `state:` reads them; an InputError with file:line if not."""
    if path is None:
        return {}
    documents = read_documents(path)
    if len(documents) != 1 or not isinstance(documents[0].content, dict):
        where = documents[1].location if len(documents) > 1 else SourceLocation(str(path))
        raise InputError.at(where, "the state file must hold one mapping, such as {user_id: USR-1}", "type")
    problems: list[Diagnostic] = []
    state = interpolate(documents[0].content, documents[0].file, environ, problems, {})
    if problems:
        raise InputError(problems)
    return dict(state)


@click.command("chat")
@directory_argument
@click.option("--message", "-m", help="Send this one message and print the answer (no prompt).")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="YAML/JSON conversation state that context parameters read (user_id, session_token, …).",
)
@max_turns_option
@click.option(
    "--transcript",
    "transcript_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON transcript here: every tool call, its arguments (sensitive ones redacted), latency, outcome.",
)
@model_option
@click.pass_obj
def chat_command(
    output: Output,
    directory: Path,
    message: str | None,
    state_file: Path | None,
    max_turns: int,
    transcript_file: Path | None,
    model: str,
) -> int:
    """Hold a conversation with the LLM gateway; the model may call the tools of DIR.

    \b
    Examples:
      reconciler chat
      reconciler chat --state state.yaml --message "Where is my order 123?" --transcript transcript.json
    """
    if transcript_file is not None:
        _check_transcript(transcript_file, directory, state_file)
    desired = load_desired(directory)
    state = read_state(state_file)
    if message is not None and not message.strip():
        raise click.UsageError("--message is empty: say something")
    interactive = message is None and sys.stdin.isatty()
    if not interactive and message is None:
        message = read_line().rstrip("\r\n")
        if not message.strip():
            raise click.UsageError("no message: pass --message TEXT, or one line on stdin")
    if message is not None and not_utf8(message):
        raise click.UsageError(f"the message is {not_utf8(message)}; send UTF-8 text (convert it: iconv -t UTF-8)")
    conversation = Conversation(desired.tools, state=state)
    with open_gateway(os.environ, model=model, debug=output.debug, notice=output.info) as (gateway, description):
        output.info(description)
        try:
            code = run_interruptible(_converse(output, conversation, gateway, message, max_turns))
        finally:
            if transcript_file is not None:
                data = transcript(
                    conversation, secrets=desired.sensitive_values(), is_sensitive=desired.config.is_sensitive
                )
                transcript_file.write_text(printable_json(data) + "\n", encoding="utf-8")
    return code


def _check_transcript(transcript_file: Path, directory: Path, state_file: Path | None) -> None:
    """The transcript may not replace the state file, nor land among the tools (the next plan would read it)."""
    target, tools = transcript_file.resolve(), directory.resolve()
    if state_file is not None and target == state_file.resolve():
        raise click.UsageError(f"--transcript {transcript_file} is the --state file; write the transcript elsewhere")
    if tools in target.parents:
        raise click.UsageError(
            f"--transcript {transcript_file} is inside the tools directory {directory}: plan would read it as a "
            "tool file; write it elsewhere"
        )


async def _converse(
    output: Output, conversation: Conversation, gateway: GatewayClient, message: str | None, max_turns: int
) -> int:
    async with Runtime(list(conversation.tools)) as runtime:
        if message is not None:
            return await _turn(output, conversation, message, gateway, runtime, max_turns)
        output.info("Type a message; an empty line or end of input (Ctrl-D) ends the conversation.")
        failed = False
        while True:
            click.echo("you> ", nl=False, err=True)  # the prompt on stderr: stdout holds only the answers
            text = await in_daemon_thread(read_line)  # Ctrl-C does not wait for a next line
            if not text.strip():  # an empty line, or the end of input
                return 1 if failed else 0
            if not_utf8(text):
                output.info(
                    f"error: that line is {not_utf8(text)}; type it again in UTF-8 (check the terminal's locale)"
                )
                continue
            try:
                await _turn(output, conversation, text.strip(), gateway, runtime, max_turns)
            except ReconcilerError as exc:  # one refused request does not throw the conversation away
                failed = True
                output.info(printable(f"error: {exc}; the conversation goes on (an empty line ends it)"))
            # a turn the bound stopped is said so; the user may go on


async def _turn(
    output: Output, conversation: Conversation, text: str, gateway: GatewayClient, runtime: Runtime, max_turns: int
) -> int:
    try:
        result = await run_turn(conversation, text, gateway=gateway, runner=runtime, max_model_calls=max_turns)
    except ReconcilerError:
        if conversation.turns and conversation.turns[-1].stop_reason == "gateway_error":
            _show_calls(output, conversation.turns[-1])  # the tools that ran before the gateway failed did run
        raise
    return _show(output, result)


def _show_calls(output: Output, result: TurnResult) -> None:
    for call in result.tool_calls:  # the name is the model's: printable, as its answer
        outcome = "ok" if call.status == "success" else f"{call.error_code}: {call.message}"
        output.info(printable(f"  tool {call.name} ({call.latency_ms:.0f} ms): {outcome}", one_line=True))


def _show(output: Output, result: TurnResult) -> int:
    _show_calls(output, result)
    if result.reply is None:
        output.info(f"stopped: {result.stop_message}")
        return 1
    if result.unfinished is not None:
        output.info(f"note: the answer was {result.unfinished}")
    output.data(printable(result.reply))  # the model's words may carry escape sequences for the terminal
    return 0


__all__ = ["chat_command", "max_turns_option", "model_option", "open_gateway", "read_state"]
