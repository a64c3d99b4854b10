"""A stand-in for PyFlink's RuntimeContext, to call a function's ``open()`` outside Flink and read its counters."""

from __future__ import annotations

from typing import Any, Dict


class Counters:
    """Stands in for PyFlink's RuntimeContext: records the counters a function registers under the ``kinesis``
    metric group (:mod:`pyflink_kinesis.flink.functions`), each in :attr:`values` by name.

    Example: ``context = Counters(); fn.open(context); ...; context.values["skipped_records"]``.
    """

    def __init__(self) -> None:
        self.values: Dict[str, int] = {}

    def get_metrics_group(self) -> "Counters":
        """The metric group: this object."""
        return self

    def add_group(self, name: str) -> "Counters":
        """The ``kinesis`` sub-group: this object (another name is an ``AssertionError``)."""
        assert name == "kinesis", f"expected the 'kinesis' metric group, got {name!r}"
        return self

    def counter(self, name: str) -> Any:
        """A counter starting at 0 whose ``inc(n=1)`` adds to ``values[name]``."""
        values = self.values
        values[name] = 0

        class Counter:
            def inc(self, n: int = 1) -> None:
                values[name] += n

        return Counter()


__all__ = ["Counters"]
