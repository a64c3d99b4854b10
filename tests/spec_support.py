"""Helpers of the spec tests: a fixed instant and an IngressRecord read at it; the key tables of the docs."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Dict

from pyflink_kinesis import IngressRecord
from pyflink_kinesis.spec.keys_doc import tables

#: The documentation page that shows the key tables, relative to the repository's root, and its tables.
PAGE = "docs/configuration-keys.md"
TABLES = ("connector", "defaults", "sdk-v1")
_MARKED = re.compile(r"<!-- keys:(?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /keys:(?P=name) -->", re.DOTALL)

WHEN = datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)


def ingress_record(data: bytes = b"payload") -> IngressRecord:
    """An IngressRecord of ``data`` from shard 0 of ``stream-1``, arrived at ``WHEN``."""
    return IngressRecord(data, "stream-1", "shardId-000000000000", "pk", "4960", WHEN)


def page_tables(text: str) -> Dict[str, str]:
    """The key tables a page shows between ``<!-- keys:NAME -->`` and ``<!-- /keys:NAME -->``."""
    return {m.group("name"): m.group("body") for m in _MARKED.finditer(text)}


def with_tables(text: str) -> str:
    """``text`` (:data:`PAGE`'s) with every marked key table regenerated from the registry (keys_doc.tables())."""
    fresh = tables()

    def table(m: "re.Match[str]") -> str:
        name = m.group("name")
        return f"<!-- keys:{name} -->\n{fresh[name]}<!-- /keys:{name} -->"

    return _MARKED.sub(table, text)
