package io.github.pyflinkkinesis.sink;

import java.util.Map;

import org.apache.flink.api.connector.sink2.Sink;

import io.github.pyflinkkinesis.aws.AwsClientConfig;

/**
 * The Kinesis sink of the Flink 1.20 build: {@link KinesisSinkBase} plus the {@code Sink.InitContext} entry
 * point that 1.20's {@code Sink} still declares (gone in 2.x).
 */
public final class KinesisSink extends KinesisSinkBase {
    private static final long serialVersionUID = 1L;

    private KinesisSink(Map<String, String> properties) {
        super(KinesisSinkConfig.of(properties), AwsClientConfig.of(properties));
    }

    /**
     * A sink configured by {@code properties} (the {@code aws.*} and {@code sink.*} keys).
     *
     * @throws IllegalArgumentException naming the key, if a value is invalid
     */
    public static KinesisSink create(Map<String, String> properties) {
        return new KinesisSink(properties);
    }

    /** Flink 1.20's deprecated entry point; its runtime calls {@code createWriter(WriterInitContext)}. */
    @Override
    @Deprecated
    public KinesisSinkWriter createWriter(Sink.InitContext context) {
        throw new UnsupportedOperationException("Kinesis sink: Flink calls createWriter(WriterInitContext) since 1.19");
    }
}
