"""Bodies the emulator refuses before any route reads them, and the bounds of reading one.

Python's `json` accepts what no JSON text may hold and what the platform refuses: `NaN` and `Infinity`, and a
`\\ud800` escape of half a surrogate pair, which decodes into a string that cannot be encoded again (the
answer, the log, the SQLite store would each fail on it). Such a body is answered 400 at the door, whatever the
route, so no route can store it or crash on it.
"""

from __future__ import annotations

import io
import json

MAX_BODY = 1 << 20
"""Bytes of one request body, whether it comes with a Content-Length or in chunks."""
MAX_CHUNK_LINE = 1024


class BadBody(Exception):
    """The request's body cannot be read or must not be served: answered 400 (413 when too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def read_chunked(stream: io.BufferedIOBase) -> bytes:
    """A `Transfer-Encoding: chunked` body, at most MAX_BODY bytes; a malformed chunk size is a BadBody."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line = stream.readline(MAX_CHUNK_LINE)
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadBody("a chunk size is not a hexadecimal number") from None
        if size < 0:
            raise BadBody("a chunk size is negative")
        if size == 0:
            for _ in range(100):  # trailers, up to the blank line
                if stream.readline(MAX_CHUNK_LINE) in (b"\r\n", b"\n", b""):
                    return b"".join(chunks)
            raise BadBody("too many trailer lines")
        total += size
        if total > MAX_BODY:
            raise BadBody(f"the body is larger than {MAX_BODY} bytes", 413)
        chunk = stream.read(size)
        if len(chunk) < size:
            raise BadBody("the body ended inside a chunk")
        chunks.append(chunk)
        stream.readline(MAX_CHUNK_LINE)


def refusal(body: bytes) -> str | None:
    """Why a JSON body must be refused (NaN, Infinity, a lone surrogate), or None. A body that is not JSON at
    all is left to its route, which knows what it expects (a token request is a form)."""
    if not body or body.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except _Constant as exc:
        return f"the body holds {exc}, which JSON has no place for; send a number or null"
    except (ValueError, RecursionError):
        return None
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "the body holds half of a UTF-16 surrogate pair (like \\ud800), which no text can hold"
    return None


class _Constant(ValueError):
    pass


def _no_constant(name: str) -> None:
    raise _Constant(name)


__all__ = ["MAX_BODY", "BadBody", "read_chunked", "refusal"]
