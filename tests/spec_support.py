"""Helpers of the spec tests: a fixed instant and an IngressRecord read at it; the README's key tables."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Dict

from pyflink_kinesis import IngressRecord
from pyflink_kinesis.spec.keys_doc import tables

_MARKED = re.compile(r"<!-- keys:(?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /keys:(?P=name) -->", re.DOTALL)

WHEN = datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)


def ingress_record(data: bytes = b"payload") -> IngressRecord:
    """An IngressRecord of ``data`` from shard 0 of ``stream-1``, arrived at ``WHEN``."""
    return IngressRecord(data, "stream-1", "shardId-000000000000", "pk", "4960", WHEN)


def readme_tables(text: str) -> Dict[str, str]:
    """The key tables a README shows between ``<!-- keys:NAME -->`` and ``<!-- /keys:NAME -->``."""
    return {m.group("name"): m.group("body") for m in _MARKED.finditer(text)}


def with_tables(text: str) -> str:
    """``text`` (the README) with every marked key table regenerated from the registry (keys_doc.tables())."""
    fresh = tables()

    def table(m: "re.Match[str]") -> str:
        name = m.group("name")
        return f"<!-- keys:{name} -->\n{fresh[name]}<!-- /keys:{name} -->"

    return _MARKED.sub(table, text)
