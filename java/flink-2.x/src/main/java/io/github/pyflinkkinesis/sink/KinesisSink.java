package io.github.pyflinkkinesis.sink;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;

import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.connector.base.sink.AsyncSinkBase;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.types.Row;

/**
 * A Kinesis Data Streams sink on Flink's {@link AsyncSinkBase} (the Flink 2.x build): each input Row names
 * its stream, partition key, optional explicit hash key and data ({@link #INPUT_TYPE}).
 *
 * <p>At-least-once: on checkpoint, calls in flight are awaited and buffered records are kept in state
 * ({@link KinesisSinkStateSerializer}, the same on every Flink line). Build it with {@link #create(Map)}.
 */
public final class KinesisSink extends AsyncSinkBase<Row, KinesisSinkEntry> {
    private static final long serialVersionUID = 1L;

    /** The input: stream, partition_key, explicit_hash_key (nullable), data. */
    public static final RowTypeInfo INPUT_TYPE = SinkSettings.INPUT_TYPE;

    private final SinkSettings settings;

    private KinesisSink(SinkSettings settings) {
        super(new RowEntryConverter(), settings.config().maxBatchSize(), settings.config().maxInFlightRequests(),
                settings.config().maxBufferedRequests(), settings.config().maxBatchSizeInBytes(),
                settings.config().maxTimeInBufferMs(), KinesisSinkEntry.MAX_RECORD_BYTES);
        this.settings = settings;
    }

    /**
     * A sink configured by {@code properties}: the {@code aws.*} keys (region, endpoint, credentials, HTTP
     * client) and the {@code sink.*} keys of {@link KinesisSinkConfig}.
     *
     * @throws IllegalArgumentException naming the key, if a value is invalid
     */
    public static KinesisSink create(Map<String, String> properties) {
        return new KinesisSink(SinkSettings.of(properties));
    }

    public KinesisSinkConfig config() {
        return settings.config();
    }

    @Override
    public StatefulSinkWriter<Row, BufferedRequestState<KinesisSinkEntry>> createWriter(WriterInitContext context) {
        return settings.writer(context, Collections.emptyList());
    }

    @Override
    public StatefulSinkWriter<Row, BufferedRequestState<KinesisSinkEntry>> restoreWriter(
            WriterInitContext context, Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        return settings.writer(context, states);
    }

    @Override
    public SimpleVersionedSerializer<BufferedRequestState<KinesisSinkEntry>> getWriterStateSerializer() {
        return new KinesisSinkStateSerializer();
    }
}
