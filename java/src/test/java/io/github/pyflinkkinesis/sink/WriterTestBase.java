package io.github.pyflinkkinesis.sink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.AfterEach;

import io.github.pyflinkkinesis.aws.retry.RetryRule;

/** What the writer tests share: a writer against a scripted client, on a real Flink mailbox. */
abstract class WriterTestBase {
    final TestWriterContext context = new TestWriterContext();
    final FakeKinesis kinesis = new FakeKinesis();
    /** The rows written, in order. */
    final List<Row> written = new ArrayList<>();
    KinesisSinkWriter writer;

    @AfterEach
    void close() {
        if (writer != null) {
            writer.close();
        }
    }

    /**
     * A writer with the {@code sink.*} keys and values {@code keyValues}, its retries backing off from
     * {@code baseDelayMillis} to {@code maxDelayMillis}.
     */
    KinesisSinkWriter writer(long baseDelayMillis, long maxDelayMillis, String... keyValues) {
        Map<String, String> properties = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            properties.put(keyValues[i], keyValues[i + 1]);
        }
        KinesisSinkConfig config = KinesisSinkConfig.of(properties);
        RetryRule rule = new RetryRule(baseDelayMillis, maxDelayMillis,
                Duration.ofMillis(config.retryRule().maxRetryMillis()), KinesisSinkConfig.MAX_RETRY_TIME);
        writer = new KinesisSinkWriter(context, config, kinesis, rule, Collections.emptyList());
        return writer;
    }
}
