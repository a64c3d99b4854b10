"""The Rows exchanged between PyFlink's Python workers and the connector jar, held against each other: the source's
row (Java RowRecordDeserializer.ROW_TYPE vs the fields, in order and with the types, that ingress_record() unpacks)
and the sink's row (Java sink.Rows.ROW_TYPE, which RowEntryConverter reads by, vs Python SINK_FIELDS /
sink_row_type()): names, order and Flink type of every field.

PyFlink's gateway JVM runs in a child process (it ends with it) with the connector jar loaded; no job runs and the
emulator is not needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

pytest.importorskip("pyflink")

from pyflink.common import Row  # noqa: E402

from pyflink_kinesis.flink.functions import ingress_record  # noqa: E402
from pyflink_kinesis.flink.jar import connector_jar  # noqa: E402
from tests.flink_support import ROOT  # noqa: E402

pytestmark = [pytest.mark.flink]

CHILD = r"""
import json
from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink_kinesis.flink.functions import SINK_FIELDS, sink_row_type
from pyflink_kinesis.flink.jar import add_connector_jar, connector_class

add_connector_jar(StreamExecutionEnvironment.get_execution_environment())


SOURCE_FIELDS = %r


def source_row_type():  # the source row as ingress_record() reads it: bytes, text fields, then two longs
    return Types.ROW_NAMED(list(SOURCE_FIELDS), [Types.PRIMITIVE_ARRAY(Types.BYTE()), Types.STRING(), Types.STRING(),
                                                 Types.STRING(), Types.STRING(), Types.LONG(), Types.LONG()])


def layout(j_row_type):
    names = list(j_row_type.getFieldNames())
    return [[name, j_row_type.getTypeAt(i).toString()] for i, name in enumerate(names)]


source, sink = connector_class("source.reader.RowRecordDeserializer"), connector_class("sink.Rows")
print(json.dumps({
    "source": {"java_names": list(source.FIELD_NAMES), "java": layout(source.ROW_TYPE),
               "python_names": list(SOURCE_FIELDS), "python": layout(source_row_type().get_java_type_info())},
    "sink": {"java_names": list(sink.FIELD_NAMES), "java": layout(sink.ROW_TYPE),
             "python_names": list(SINK_FIELDS), "python": layout(sink_row_type().get_java_type_info())},
}))
"""

# The source row's fields in the order ingress_record() unpacks them.
SOURCE_FIELDS = ("data", "stream", "shard_id", "partition_key", "sequence_number", "sub_sequence_number",
                 "arrival_time")
# Which IngressRecord attribute each source field becomes (ingress_record() unpacks the row by position).
_ATTRIBUTE = {"arrival_time": "approximate_arrival_timestamp"}


def test_python_and_java_row_layouts_agree() -> None:
    connector_jar()  # the jar for this PyFlink, or ConnectorJarMissing saying how to build it
    result = subprocess.run([sys.executable, "-c", CHILD % (SOURCE_FIELDS,)], capture_output=True, timeout=300,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    layouts = json.loads(result.stdout.decode().strip().splitlines()[-1])
    for row in ("source", "sink"):
        sides = layouts[row]
        assert sides["python_names"] == sides["java_names"], f"{row} row field names (Python vs Java)"
        assert sides["python"] == sides["java"], f"{row} row fields and Flink types (Python vs Java)"
    # ingress_record() reads the source row by position: every field must land in its own attribute.
    values = {name: f"value of {name}" for name in SOURCE_FIELDS}
    values.update(data=b"value of data", sub_sequence_number=7, arrival_time=86_400_000)
    record = ingress_record(Row(*(values[name] for name in SOURCE_FIELDS)))
    expected = dict(values, arrival_time=datetime(1970, 1, 2, tzinfo=timezone.utc))
    assert {name: getattr(record, _ATTRIBUTE.get(name, name)) for name in SOURCE_FIELDS} == expected
