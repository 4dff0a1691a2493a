"""The `facekit` sub-commands (argument parsing and printing; the work lives in the library modules)."""

from __future__ import annotations

import sys


def error_text(error: BaseException) -> str:
    """What went wrong, in words: an OSError as its reason and file ("No space left on device: out/x.pt")."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error)


def fail(command: str, error: BaseException) -> int:
    """Print `facekit COMMAND: what went wrong` to stderr; the exit status 1 to return."""
    print(f"facekit {command}: {error_text(error)}", file=sys.stderr)
    return 1
