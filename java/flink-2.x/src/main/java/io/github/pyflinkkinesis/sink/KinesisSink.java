package io.github.pyflinkkinesis.sink;

import io.github.pyflinkkinesis.aws.AwsClientConfig;

/** The Kinesis sink of the Flink 2.x build: {@link KinesisSinkBase} is all its {@code Sink} interface asks. */
public final class KinesisSink extends KinesisSinkBase {
    private static final long serialVersionUID = 1L;

    KinesisSink(KinesisSinkConfig config, AwsClientConfig aws) {
        super(config, aws);
    }
}
