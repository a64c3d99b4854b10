package io.github.pyflinkkinesis.sink;

import org.apache.flink.api.connector.sink2.Sink;

import io.github.pyflinkkinesis.aws.AwsClientConfig;

/**
 * The Kinesis sink of the Flink 1.20 build: {@link KinesisSinkBase} plus the {@code Sink.InitContext} entry
 * point that 1.20's {@code Sink} still declares (gone in 2.x).
 */
public final class KinesisSink extends KinesisSinkBase {
    private static final long serialVersionUID = 1L;

    KinesisSink(KinesisSinkConfig config, AwsClientConfig aws) {
        super(config, aws);
    }

    /** Flink 1.20's deprecated entry point; its runtime calls {@code createWriter(WriterInitContext)}. */
    @Override
    @Deprecated
    public KinesisSinkWriter createWriter(Sink.InitContext context) {
        throw new UnsupportedOperationException("Kinesis sink: Flink calls createWriter(WriterInitContext) since 1.19");
    }
}
