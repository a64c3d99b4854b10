package io.github.pyflinkkinesis.sink;

import java.util.Map;

import io.github.pyflinkkinesis.aws.AwsClientConfig;

/** The Kinesis sink of the Flink 2.x build: {@link KinesisSinkBase} is all its {@code Sink} interface asks. */
public final class KinesisSink extends KinesisSinkBase {
    private static final long serialVersionUID = 1L;

    private KinesisSink(Map<String, String> properties) {
        super(KinesisSinkConfig.of(properties), AwsClientConfig.of(properties));
    }

    /**
     * A sink configured by {@code properties}: the {@code aws.*} keys (region, endpoint, credentials, HTTP
     * client) and the {@code sink.*} keys of {@link KinesisSinkConfig}.
     *
     * @throws IllegalArgumentException naming the key, if a value is invalid
     */
    public static KinesisSink create(Map<String, String> properties) {
        return new KinesisSink(properties);
    }
}
