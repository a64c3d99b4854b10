"""The serde functions copy_module.yaml names (``copy_serde:keep`` and ``copy_serde:to_copy``): importable from
this folder, which is on the path of a script run from it (``python examples/configs/beam_copy.py``)."""

from pyflink_kinesis import EgressRecord, IngressRecord


def keep(record: IngressRecord) -> IngressRecord:
    """The ingress deserializer: the record itself, with its bytes and metadata."""
    return record


def to_copy(record: IngressRecord) -> EgressRecord:
    """The egress serializer: the record's bytes and partition key, to 'orders-copy'."""
    return EgressRecord(record.data, stream="orders-copy", partition_key=record.partition_key)
