"""Errors and warnings raised by pyflink-kinesis."""

from __future__ import annotations

import difflib
from types import FrameType
from typing import Iterable, Optional


class ConfigError(ValueError):
    """An invalid Kinesis ingress or egress configuration.

    The message names where the problem is (``file:line:`` when the
    configuration came from YAML, then the field path), what was found and
    what was expected. The parts are also kept as attributes for tools.

    Args:
        message: What is wrong and what was expected.
        field: Dotted path of the offending field, e.g.
            ``ingress example/in: spec.awsRegion.type``.
        file: The YAML file the field came from, if any.
        line: The 1-based line of the field in ``file``, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        field: Optional[str] = None,
        file: Optional[str] = None,
        line: Optional[int] = None,
    ) -> None:
        self.reason = message
        self.field = field
        self.file = file
        self.line = line
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        elif line is not None:
            where = f"line {line}: "
        prefix = f"{field}: " if field else ""
        super().__init__(f"{where}{prefix}{message}")


class ConfigWarning(UserWarning):
    """A configuration that works but is probably not what was meant."""


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` that points at the first caller outside this package."""
    import os
    import sys

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # pyflink_kinesis/, subpackages too
    frame: Optional[FrameType] = sys._getframe(1)
    level = 1  # the function calling warnings.warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or ``""``."""
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[match[0]]}'?)" if match else ""


def one_of(choices: Iterable[str]) -> str:
    """Format choices as ``'a', 'b' or 'c'`` for messages."""
    quoted = [f"'{c}'" for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
