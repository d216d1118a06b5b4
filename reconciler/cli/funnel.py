"""The one error funnel: every exception that ends a command becomes a message on stderr and an exit code.

    0    success (2 with --detailed-exitcode and changes: the command returns it)
    1    the user's error: bad input, bad flags or environment, a refused plan, the API said no, a file that
         cannot be written (`--out`, `--audit-log`), click's usage errors
    3    our bug: any other exception. One line names it and says to rerun with --debug, which prints the
         traceback; the exception's text is not printed without --debug, as it may hold values from the input
    130  interrupted (Ctrl-C), or a confirmation prompt aborted

As pre-commit's `error_handler`: nothing below the CLI prints or exits, and no traceback reaches a user who
did not ask for one.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import click

from reconciler.cli.output import capped
from reconciler.cli.output import echo_error as echo
from reconciler.errors import InputError, ReconcilerError
from reconciler.redaction import Redactor

USER_ERROR = 1
BUG = 3
INTERRUPTED = 130


def guarded(command: Callable[[], object], *, debug: bool, redactor: Redactor | None = None) -> int:
    """Run `command` (which returns an exit code or None) and turn whatever ends it into an exit code. Every
    line, tracebacks included, passes through `redactor`: an error may quote a secret (a 422 echoing the payload)."""

    def echo_error(message: str, *, prefix: bool = True) -> None:
        echo(message, prefix=prefix, redactor=redactor)

    def _traceback(debug: bool) -> None:
        if debug:
            echo(traceback.format_exc().rstrip("\n"), prefix=False, redactor=redactor)

    try:
        result = command()
    except (click.exceptions.Abort, KeyboardInterrupt):
        echo_error("interrupted")
        return INTERRUPTED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        shown = io.StringIO()
        exc.show(file=shown)
        echo_error(shown.getvalue().rstrip("\n"), prefix=False)
        return USER_ERROR if exc.exit_code == 2 else exc.exit_code
    except InputError as exc:
        for line in capped([str(diagnostic) for diagnostic in exc.diagnostics]):
            echo_error(line, prefix=False)
        return exc.exit_code
    except ReconcilerError as exc:
        _traceback(debug)
        echo_error(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        _silence_stdout()  # the reader of our output went away (`| head`): nothing left to say, nowhere to say it
        return USER_ERROR
    except OSError as exc:  # a path the user gave (`--out`, `--audit-log`) that cannot be written or read
        _traceback(debug)
        echo_error(_os_message(exc))
        return USER_ERROR
    except Exception as exc:  # the funnel's whole point: no traceback unless asked for
        _traceback(debug)
        echo_error(f"internal error ({type(exc).__name__} at {_where(exc)}); this is a bug in reconciler.")
        if not debug:
            echo_error("Rerun with --debug for the traceback, and report it with that output.", prefix=False)
        return BUG
    return result if isinstance(result, int) else 0


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    if exc.filename is None:
        return f"{reason}; check the paths you passed"
    name = os.fsdecode(exc.filename)
    blocker = _file_in_the_way(Path(name)) if isinstance(exc, (FileExistsError, NotADirectoryError)) else None
    if blocker is not None:  # the OS says "File exists" or "Not a directory", naming neither the file nor the fix
        return f"cannot write or read {name}: {blocker} is a file, not a folder; give another path, or move that file"
    return f"cannot write or read {name}: {reason}; check the path and its permissions"


def _file_in_the_way(path: Path) -> Path | None:
    """The first part of `path` that is a file where the path needs a folder (None: none is, or it cannot tell)."""
    for part in [*reversed(path.parents), path]:
        if part.exists() and not part.is_dir():
            return part
    return None


def _where(exc: BaseException) -> str:
    """The innermost frame of ours in the traceback, as module:line (no values, only the place)."""
    place = "?"
    for frame, line in traceback.walk_tb(exc.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith("reconciler"):
            place = f"{module}:{line}"
    return place


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a descriptor (a test's capture)
        pass


__all__ = ["BUG", "INTERRUPTED", "USER_ERROR", "guarded"]
