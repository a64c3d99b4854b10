package io.github.pyflinkkinesis.sink;

import java.io.Serializable;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.connector.base.sink.AsyncSinkBase;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.types.Row;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;

/**
 * A Kinesis Data Streams sink on Flink's {@link AsyncSinkBase}: each input Row names its stream, partition
 * key, optional explicit hash key and data ({@link #INPUT_TYPE}). This source compiles against each Flink
 * line; {@code KinesisSink} (one per line) adds what that line's {@code Sink} interface asks besides.
 *
 * <p>At-least-once: on checkpoint, calls in flight are awaited and buffered records are kept in state
 * ({@link KinesisSinkStateSerializer}, the same on every line, so a savepoint moves between lines).
 */
public abstract class KinesisSinkBase extends AsyncSinkBase<Row, KinesisSinkEntry> {
    private static final long serialVersionUID = 1L;

    /** The input: stream, partition_key, explicit_hash_key (nullable), data. */
    public static final RowTypeInfo INPUT_TYPE = new RowTypeInfo(
            new TypeInformation<?>[] {Types.STRING, Types.STRING, Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)},
            new String[] {"stream", "partition_key", "explicit_hash_key", "data"});

    /** A class, not a serializable lambda: the jar's relocation of the AWS SDK breaks lambda deserialization. */
    private static final class ClientFactory implements Serializable {
        private static final long serialVersionUID = 1L;
        private final AwsClientConfig aws;

        ClientFactory(AwsClientConfig aws) {
            this.aws = aws;
        }

        KinesisAsyncClient create() {
            return aws.createAsyncClient();
        }
    }

    private final KinesisSinkConfig config;
    private final ClientFactory clientFactory;

    /** A sink with the {@code sink.*} settings {@code config} and the {@code aws.*} client settings {@code aws}. */
    protected KinesisSinkBase(KinesisSinkConfig config, AwsClientConfig aws) {
        super(new RowEntryConverter(), config.maxBatchSize(), config.maxInFlightRequests(),
                config.maxBufferedRequests(), config.writerBatchBytes(), config.maxTimeInBufferMs(),
                config.largestRecordBytes());
        this.config = config;
        this.clientFactory = new ClientFactory(aws);
    }

    /**
     * A sink configured by {@code properties}: the {@code aws.*} keys (region, endpoint, credentials, HTTP
     * client) and the {@code sink.*} keys of {@link KinesisSinkConfig}. Called as {@code KinesisSink.create}.
     *
     * @throws IllegalArgumentException naming the key, if a value is invalid
     */
    public static KinesisSink create(Map<String, String> properties) {
        return new KinesisSink(KinesisSinkConfig.of(properties), AwsClientConfig.of(properties));
    }

    public KinesisSinkConfig config() {
        return config;
    }

    @Override
    public KinesisSinkWriter createWriter(WriterInitContext context) {
        return restoreWriter(context, Collections.emptyList());
    }

    @Override
    public KinesisSinkWriter restoreWriter(WriterInitContext context,
            Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        return new KinesisSinkWriter(context, config, clientFactory.create(), config.retryRule(), states);
    }

    @Override
    public SimpleVersionedSerializer<BufferedRequestState<KinesisSinkEntry>> getWriterStateSerializer() {
        return new KinesisSinkStateSerializer();
    }
}
