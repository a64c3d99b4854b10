"""The test kit's Flink host (pyflink_kinesis/testing/flink_host.py): which submit failures it retries on another
REST port. The Java exceptions are stand-ins with the two methods py4j's objects answer here (no JVM)."""

from __future__ import annotations

from typing import Optional

from pyflink_kinesis.testing.flink_host import _caused_by


class JavaStandIn:
    def __init__(self, name: str, cause: Optional["JavaStandIn"] = None) -> None:
        self.name, self.cause = name, cause

    def getClass(self) -> "JavaStandIn":  # noqa: N802 - Java's name
        return self

    def getName(self) -> str:  # noqa: N802
        return self.name

    def getCause(self) -> Optional["JavaStandIn"]:  # noqa: N802
        return self.cause


class Py4JErrorStandIn(Exception):
    def __init__(self, java_exception: JavaStandIn) -> None:
        super().__init__("An error occurred while calling o19.executeAsync.")
        self.java_exception = java_exception


def test_a_port_taken_before_the_minicluster_bound_it_is_found_among_the_causes() -> None:
    lost_port = JavaStandIn("org.apache.flink.util.FlinkException", JavaStandIn("java.net.BindException"))
    assert _caused_by(Py4JErrorStandIn(lost_port), "java.net.BindException")


def test_other_failures_are_not_taken_for_a_lost_port() -> None:
    other = JavaStandIn("org.apache.flink.util.FlinkException", JavaStandIn("java.io.IOException"))
    assert not _caused_by(Py4JErrorStandIn(other), "java.net.BindException")
    assert not _caused_by(ValueError("a Python error has no Java causes"), "java.net.BindException")
