package io.github.pyflinkkinesis.sink;

import java.io.Serializable;
import java.util.Collection;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;

/**
 * What a {@link KinesisSink} carries to the task managers, the same on every Flink line: the {@code sink.*}
 * settings and how to build the Kinesis client; it builds the line's writer there.
 */
final class SinkSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The sink's input: stream, partition_key, explicit_hash_key (nullable), data. */
    static final RowTypeInfo INPUT_TYPE = new RowTypeInfo(
            new TypeInformation<?>[] {Types.STRING, Types.STRING, Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)},
            new String[] {"stream", "partition_key", "explicit_hash_key", "data"});

    static final long INITIAL_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 5000;

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

    private SinkSettings(KinesisSinkConfig config, ClientFactory clientFactory) {
        this.config = config;
        this.clientFactory = clientFactory;
    }

    /**
     * Settings from {@code properties}: the {@code aws.*} keys (region, endpoint, credentials, HTTP client)
     * and the {@code sink.*} keys of {@link KinesisSinkConfig}.
     *
     * @throws IllegalArgumentException naming the key, if a value is invalid
     */
    static SinkSettings of(Map<String, String> properties) {
        return new SinkSettings(KinesisSinkConfig.of(properties), new ClientFactory(AwsClientConfig.of(properties)));
    }

    KinesisSinkConfig config() {
        return config;
    }

    /** The Flink line's writer, restoring {@code states} (empty for a fresh one). */
    KinesisSinkWriter writer(WriterInitContext context, Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        return new KinesisSinkWriter(context, config, clientFactory.create(),
                new Backoff(INITIAL_BACKOFF_MS, MAX_BACKOFF_MS), states);
    }
}
