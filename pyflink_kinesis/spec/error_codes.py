"""The Kinesis error codes the connectors act on, read from ``error_codes.txt`` (one list for Python and Java).

Each line of the file names a code, its kind and where it appears (its scope): the ``__type`` of a whole
call's answer (``call``), the ``ErrorCode`` of one PutRecords entry (``entry``), or both. Engine-neutral:
no AWS SDK is imported here; the engines map their exceptions to a code and ask :func:`kind_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Optional

THROTTLED = "throttled"
TRANSIENT = "transient"
EXPIRED_ITERATOR = "expired-iterator"
REJECTED = "rejected"
KINDS = (THROTTLED, TRANSIENT, EXPIRED_ITERATOR, REJECTED)
RETRYABLE_KINDS = frozenset({THROTTLED, TRANSIENT})  # retried with backoff within the total retry time

CALL = "call"
ENTRY = "entry"
SCOPES = (CALL, ENTRY)

CODES_FILE = Path(__file__).with_name("error_codes.txt")


@dataclass(frozen=True)
class ErrorCode:
    """One line of the codes file.

    Attributes:
        code: The error code, e.g. ``"ProvisionedThroughputExceededException"``.
        kind: One of :data:`KINDS`.
        scopes: Where the code appears: ``{"call"}``, ``{"entry"}`` or both.
    """

    code: str
    kind: str
    scopes: FrozenSet[str]


def parse(text: str, source: str = "error_codes.txt") -> Dict[str, ErrorCode]:
    """The codes of a codes file's text, by code; a malformed line fails naming its line number.

    Args:
        text: The file's content: ``code kind scope[,scope]`` per line; ``#`` starts a comment line.
        source: The file's name, for errors.
    """
    codes: Dict[str, ErrorCode] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 3:
            raise ValueError(f"{source}:{number}: expected 'code kind scope', got {line.strip()!r}")
        code, kind, scope_field = fields
        scopes = frozenset(scope_field.split(","))
        if kind not in KINDS:
            raise ValueError(f"{source}:{number}: kind {kind!r} of {code} is not one of {', '.join(KINDS)}")
        if not scopes <= set(SCOPES):
            raise ValueError(f"{source}:{number}: scope {scope_field!r} of {code} is not call, entry or call,entry")
        if code in codes:
            raise ValueError(f"{source}:{number}: {code} is listed twice")
        codes[code] = ErrorCode(code, kind, scopes)
    return codes


@lru_cache(maxsize=1)
def error_codes() -> Dict[str, ErrorCode]:
    """Every code of the packaged ``error_codes.txt``, by code (read once)."""
    return parse(CODES_FILE.read_text(encoding="utf-8"), CODES_FILE.name)


def kind_of(code: Optional[str], scope: str = CALL) -> Optional[str]:
    """The kind of ``code`` where it appeared (``"call"`` or ``"entry"``); ``None`` for a code not listed there.

    Args:
        code: A whole call's error code, or a PutRecords entry's ``ErrorCode``.
        scope: Where the code came from.
    """
    known = error_codes().get(code or "")
    if known is None or scope not in known.scopes:
        return None
    return known.kind


__all__ = [
    "CALL",
    "ENTRY",
    "EXPIRED_ITERATOR",
    "KINDS",
    "REJECTED",
    "RETRYABLE_KINDS",
    "THROTTLED",
    "TRANSIENT",
    "ErrorCode",
    "error_codes",
    "kind_of",
    "parse",
]
