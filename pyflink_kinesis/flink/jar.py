"""The connector jar shipped inside this package, and the few JVM calls the DataStream API needs.

The jar (``pyflink_kinesis/jars/pyflink-kinesis-connector.jar``) is built from ``java/`` by ``./dev`` and by
``pip install`` (setup.py); nothing is downloaded at run time. py4j stays in this module and in
:mod:`pyflink_kinesis.datastream`: user code sees Python objects only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..spec.errors import ConfigError

JAR_NAME = "pyflink-kinesis-connector.jar"
JAR_PATH = Path(__file__).resolve().parents[1] / "jars" / JAR_NAME
JAVA_PACKAGE = "io.github.pyflinkkinesis"


class ConnectorJarMissing(FileNotFoundError):
    """The package was installed without its connector jar (built from ``java/`` by ./dev or pip install)."""


def connector_jar() -> Path:
    """The packaged connector jar; raises :class:`ConnectorJarMissing` saying how to build it."""
    if not JAR_PATH.is_file():
        raise ConnectorJarMissing(
            f"the Flink connector jar {JAR_PATH} is missing: build it with `./dev test` or `./dev run` in a checkout, "
            "or `cd java && mvn -B package` and copy java/target/pyflink-kinesis-connector.jar there "
            "(`pip install .` builds it too, which needs Maven and Java 11+)"
        )
    return JAR_PATH


def add_connector_jar(env: Any) -> None:
    """Add the packaged jar to ``env`` once: to the gateway JVM and to ``pipeline.jars`` (shipped by ``flink run``).

    A package without its jar (as in an MSF zip, whose ``lib/`` has it) is fine when the JVM already has the
    connector's classes."""
    from py4j.java_gateway import JavaClass
    from pyflink.java_gateway import get_gateway

    if not JAR_PATH.is_file() and isinstance(connector_class("source.KinesisSource"), JavaClass):
        return  # the job was given the jar another way (flink run --jarfile; MSF's jarfile, see msf_package)
    uri = connector_jar().as_uri()
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
