package io.github.pyflinkkinesis.table;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.DataType;

import io.github.pyflinkkinesis.source.reader.KinesisRecord;

/** The metadata columns a {@code 'pyflink-kinesis'} source table can read ({@code METADATA FROM 'key'}). */
enum ReadableMetadata {
    /** The record's approximate arrival time in Kinesis (also the source's event time). */
    TIMESTAMP("timestamp", DataTypes.TIMESTAMP_LTZ(3).notNull()) {
        @Override
        Object read(KinesisRecord record, String stream, String shardId) {
            return TimestampData.fromEpochMillis(record.arrivalTimeMillis());
        }
    },
    SHARD_ID("shard-id", DataTypes.STRING().notNull()) {
        @Override
        Object read(KinesisRecord record, String stream, String shardId) {
            return StringData.fromString(shardId);
        }
    },
    SEQUENCE_NUMBER("sequence-number", DataTypes.STRING().notNull()) {
        @Override
        Object read(KinesisRecord record, String stream, String shardId) {
            return StringData.fromString(record.sequenceNumber());
        }
    },
    PARTITION_KEY("partition-key", DataTypes.STRING().notNull()) {
        @Override
        Object read(KinesisRecord record, String stream, String shardId) {
            return StringData.fromString(record.partitionKey());
        }
    },
    STREAM("stream", DataTypes.STRING().notNull()) {
        @Override
        Object read(KinesisRecord record, String stream, String shardId) {
            return StringData.fromString(stream);
        }
    },
    /** The user record's index inside a KPL aggregate; null for a plain record. */
    SUB_SEQUENCE_NUMBER("sub-sequence-number", DataTypes.BIGINT().nullable()) {
        @Override
        Object read(KinesisRecord record, String stream, String shardId) {
            return record.subSequenceNumber();
        }
    };

    final String key;
    final DataType type;

    ReadableMetadata(String key, DataType type) {
        this.key = key;
        this.type = type;
    }

    /** The column's value in Flink's internal data structures. */
    abstract Object read(KinesisRecord record, String stream, String shardId);

    static Map<String, DataType> all() {
        Map<String, DataType> out = new LinkedHashMap<>();
        for (ReadableMetadata m : values()) {
            out.put(m.key, m.type);
        }
        return out;
    }

    static ReadableMetadata of(String key) {
        for (ReadableMetadata m : values()) {
            if (m.key.equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("not a readable metadata key of 'pyflink-kinesis': " + key);
    }
}
