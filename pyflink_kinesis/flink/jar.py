"""The connector jars shipped inside this package, and the few JVM calls the DataStream API needs.

One jar per Flink API line (``pyflink_kinesis/jars/pyflink-kinesis-connector-flink-<line>.jar``, see
:data:`JARS`): the sink's writer API differs between Flink 1.20 and 2.x, the rest is the same source. They are
built from ``java/`` by ``./dev`` and by ``pip install`` (setup.py); nothing is downloaded at run time. The jar
is chosen by the Flink version that runs the job: the installed PyFlink's (:func:`add_connector_jar`), or the
cluster's (:mod:`pyflink_kinesis.cluster`). py4j stays in this module and in :mod:`pyflink_kinesis.datastream`:
user code sees Python objects only.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from ..spec.errors import ConfigError

JAR_DIR = Path(__file__).resolve().parents[1] / "jars"
#: Flink API line -> (the Flink minor versions its jar runs on, the jar's file name). 2.0 lacks the
#: connector-base buffer API (RequestBuffer, 2.1+) the 2.x sink is written on.
JARS = {
    "1.20": (("1.20",), "pyflink-kinesis-connector-flink-1.20.jar"),
    "2.x": (("2.1", "2.2", "2.3"), "pyflink-kinesis-connector-flink-2.x.jar"),
}
JAVA_PACKAGE = "io.github.pyflinkkinesis"
_MINOR = re.compile(r"^(\d+\.\d+)(?:\.|$)")


class ConnectorJarMissing(FileNotFoundError):
    """The package was installed without its connector jar (built from ``java/`` by ./dev or pip install)."""


class UnsupportedFlinkVersion(ValueError):
    """The Flink version that would run the job is not one a connector jar is built for."""


def flink_line(flink_version: str) -> str:
    """The API line (a key of :data:`JARS`) of ``flink_version`` (e.g. ``"1.20.5"`` -> ``"1.20"``, ``"2.2"`` ->
    ``"2.x"``); a line itself (``"2.x"``) is one too."""
    if flink_version.strip() in JARS:
        return flink_version.strip()
    match = _MINOR.match(flink_version.strip())
    minor = match.group(1) if match else None
    for line, (minors, _) in JARS.items():
        if minor in minors:
            return line
    supported = ", ".join(m for minors, _ in JARS.values() for m in minors)
    raise UnsupportedFlinkVersion(f"Flink {flink_version!r}: the connector is built for Flink {supported} only")


def installed_flink_version() -> str:
    """The version of the installed apache-flink (PyFlink) distribution."""
    try:
        return metadata.version("apache-flink")
    except metadata.PackageNotFoundError:
        raise ConnectorJarMissing("apache-flink is not installed: pip install 'pyflink-kinesis[flink]'") from None


def connector_jar(flink_version: Optional[str] = None) -> Path:
    """The packaged connector jar for ``flink_version`` (default: the installed PyFlink's).

    Raises :class:`UnsupportedFlinkVersion` for a Flink line without a jar, :class:`ConnectorJarMissing`
    saying how to build it when the package lacks the jar.
    """
    line = flink_line(flink_version or installed_flink_version())
    jar = JAR_DIR / JARS[line][1]
    if not jar.is_file():
        raise ConnectorJarMissing(
            f"the Flink connector jar {jar} is missing: build it with `./dev test` or `./dev run` in a checkout, "
            "or `cd java && mvn -B package` and copy java/target/*.jar there "
            "(`pip install .` builds it too, which needs Maven and Java 11+)"
        )
    return jar


def add_connector_jar(env: Any) -> None:
    """Add the jar for the running PyFlink to ``env`` once: to the gateway JVM and to ``pipeline.jars`` (shipped
    by ``flink run``).

    A package without its jars (as in an MSF zip, whose ``lib/`` has the jar) is fine when the JVM already has
    the connector's classes."""
    from py4j.java_gateway import JavaClass
    from pyflink.java_gateway import get_gateway

    try:
        uri = connector_jar().as_uri()
    except ConnectorJarMissing:
        if isinstance(connector_class("source.KinesisSource"), JavaClass):
            return  # the job was given the jar another way (flink run --jarfile; MSF's jarfile, see msf_package)
        raise
    jvm = get_gateway().jvm
    config = jvm.org.apache.flink.python.util.PythonConfigUtil.getEnvironmentConfig(env._j_stream_execution_environment)
    if uri not in (config.getString("pipeline.jars", None) or ""):
        env.add_jars(uri)


def java_map(values: Mapping[str, str]) -> Any:
    """A ``java.util.HashMap<String, String>`` with ``values``."""
    from pyflink.java_gateway import get_gateway

    out = get_gateway().jvm.java.util.HashMap()
    for key, value in values.items():
        out.put(key, value)
    return out


def java_list(values: Sequence[str]) -> Any:
    """A ``java.util.ArrayList<String>`` with ``values``."""
    from pyflink.java_gateway import get_gateway

    out = get_gateway().jvm.java.util.ArrayList()
    for value in values:
        out.add(value)
    return out


def connector_class(name: str) -> Any:
    """A class of the connector jar, e.g. ``connector_class("source.KinesisSource")``."""
    from pyflink.java_gateway import get_gateway

    jvm_object = get_gateway().jvm
    for part in f"{JAVA_PACKAGE}.{name}".split("."):
        jvm_object = getattr(jvm_object, part)
    return jvm_object


def call_java(build: Callable[[], Any], field: str) -> Any:
    """Run ``build`` (a call into the connector); its IllegalArgumentException becomes a ConfigError on ``field``."""
    from py4j.protocol import Py4JJavaError

    try:
        return build()
    except Py4JJavaError as e:
        error = e.java_exception
        if error.getClass().getName() == "java.lang.IllegalArgumentException":
            raise ConfigError(str(error.getMessage()), field=field) from None
        raise
