package io.github.pyflinkkinesis.sink;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.types.Row;

/**
 * Maps a source Row (data, stream, shard_id, partition_key, ...) to a sink Row for {@code stream}: same
 * partition key and data, no explicit hash key. For pipelines with no Python step: benchmark-only, shipped in
 * target/pyflink-kinesis-connector-benchmark.jar, never in the connector jar.
 */
public final class ToStream implements MapFunction<Row, Row>, ResultTypeQueryable<Row> {
    private static final long serialVersionUID = 1L;

    private final String stream;

    /** @param stream the target stream's name or ARN */
    public ToStream(String stream) {
        if (stream == null || stream.isEmpty()) {
            throw new IllegalArgumentException("ToStream: stream must be a non-empty name or ARN");
        }
        this.stream = stream;
    }

    @Override
    public Row map(Row source) {
        return Row.of(stream, Rows.field(source, 3, "partition_key"), null, Rows.field(source, 0, "data"));
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return KinesisSink.INPUT_TYPE;
    }
}
