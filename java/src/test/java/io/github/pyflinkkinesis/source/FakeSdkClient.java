package io.github.pyflinkkinesis.source;

import software.amazon.awssdk.core.SdkClient;

/** What the test fakes of both Kinesis clients (blocking and async) share: the service name and being closed. */
public abstract class FakeSdkClient implements SdkClient {
    /** True once the code under test closed the client. */
    public boolean closed;

    @Override
    public String serviceName() {
        return "kinesis";
    }

    @Override
    public void close() {
        closed = true;
    }
}
