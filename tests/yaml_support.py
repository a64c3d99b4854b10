"""Helpers of the StateFun module YAML tests: write a module file, and load one expecting a located error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pyflink_kinesis import ConfigError, load_module

ROLE = "arn:aws:iam::123456789012:role/reader"

# A StateFun 3.1 document that is not a Kinesis component: loaders skip it.
HTTP_ENDPOINT = """\
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: http://functions/{function.name}
---
"""


def write(tmp_path: Path, text: str, name: str = "module.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, line: int, field: str) -> str:
    """Load ``text`` from a file; assert the ConfigError names the file, ``line`` and ``field``; return the message."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_module(path)
    e = info.value
    message = str(e)
    assert (e.file, e.line, e.field) == (str(path), line, field), message
    assert message.startswith(f"{path}:{line}: {field}: "), message
    return message
