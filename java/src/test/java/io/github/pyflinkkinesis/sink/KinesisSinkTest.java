package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

class KinesisSinkTest {
    @Test
    void sinkTravelsToTaskManagersAndBuildsItsWriterThere() throws Exception {
        KinesisSink sink = KinesisSink.create(Map.of("aws.region", "us-east-1",
                "aws.endpoint", "http://127.0.0.1:1", "aws.credentials.provider", "BASIC",
                "aws.credentials.provider.basic.accesskeyid", "local",
                "aws.credentials.provider.basic.secretkey", "local", KinesisSinkConfig.MAX_BUFFERED, "20"));
        KinesisSink copy = InstantiationUtil.clone(sink, getClass().getClassLoader());
        assertEquals(19, copy.config().maxBatchSize());
        try (SinkWriter<?> writer = copy.createWriter(new TestWriterContext())) {
            assertTrue(writer instanceof KinesisSinkWriter);
        }
        assertEquals(KinesisSinkStateSerializer.VERSION, copy.getWriterStateSerializer().getVersion());
    }
}
