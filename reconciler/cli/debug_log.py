"""`--debug`: our own loggers to stderr, every line scrubbed of the sensitive values known so far. A module of
its own so that a run without `--debug` does not import `logging` at start-up."""

from __future__ import annotations

import logging
import sys

import click

from reconciler.redaction import Redactor


class _ScrubbingFormatter(logging.Formatter):
    """A debug line is text like any other: the sensitive values known so far never reach it."""

    def __init__(self, redactor: Redactor, fmt: str) -> None:
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.scrub(super().format(record))


def start_debug_log(ctx: click.Context, redactor: Redactor) -> None:
    # Only our own loggers: they redact secrets; httpx's and httpcore's do not promise to.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ScrubbingFormatter(redactor, "debug: %(name)s: %(message)s"))
    logger = logging.getLogger("reconciler")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def restore() -> None:  # `main` may run again in this process (tests do): leave no handler behind
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(restore)


__all__ = ["start_debug_log"]
