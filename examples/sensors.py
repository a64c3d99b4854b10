"""The example's user code: binary sensor readings in, per-record routed events out.

A reading is 12 bytes, big-endian: sensor id (uint32) and temperature in
millidegrees Celsius (int64). Readings hotter than 30 °C go to ``sensor-alerts``,
the rest to ``sensor-normal``; both keyed by sensor.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from pyflink_kinesis import EgressRecord, IngressRecord, KinesisEgressSerializer

READING = struct.Struct(">Iq")
ALERT_CELSIUS = 30.0
STREAMS = {"input": "sensor-readings", "alerts": "sensor-alerts", "normal": "sensor-normal"}


@dataclass(frozen=True)
class Reading:
    sensor: int
    celsius: float
    arrived: datetime
    shard_id: str
    sequence_number: str


def encode_reading(sensor: int, celsius: float) -> bytes:
    """The wire format of a reading."""
    return READING.pack(sensor, round(celsius * 1000))


def parse_reading(record: IngressRecord) -> Optional[Reading]:
    """Deserializer: a reading, or None (skipped and counted) for malformed payloads."""
    if len(record.data) != READING.size:
        return None
    sensor, milli = READING.unpack(record.data)
    return Reading(sensor, milli / 1000, record.approximate_arrival_timestamp, record.shard_id, record.sequence_number)


class SensorEventSerializer(KinesisEgressSerializer[Reading]):
    """Serializer: routes each reading to the alerts or the normal stream, keyed by sensor."""

    def serialize(self, value: Reading) -> EgressRecord:
        stream = STREAMS["alerts"] if value.celsius > ALERT_CELSIUS else STREAMS["normal"]
        body = {"sensor": value.sensor, "celsius": value.celsius, "from": f"{value.shard_id}/{value.sequence_number}"}
        return EgressRecord(json.dumps(body).encode(), stream=stream, partition_key=f"sensor-{value.sensor}")
