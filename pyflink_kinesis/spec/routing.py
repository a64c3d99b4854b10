"""StateFun's routable ingress: each record goes to every target function of its stream."""

from __future__ import annotations

from .records import IngressRecord, RoutableMessage
from .builders import KinesisIngressSpec


def route(spec: KinesisIngressSpec, record: IngressRecord) -> list[RoutableMessage]:
    """The routable messages of ``record``: one per target of its stream, id = partition key.

    The payload is the record's bytes, tagged with the stream's type url and never parsed.
    A stream without routing yields no message.
    """
    routing = spec.routing.get(record.stream)
    if routing is None:
        return []
    return [
        RoutableMessage(target=target, id=record.partition_key, type_url=routing.type_url, payload=record.data, record=record)
        for target in routing.targets
    ]
