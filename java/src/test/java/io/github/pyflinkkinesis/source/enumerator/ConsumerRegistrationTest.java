package io.github.pyflinkkinesis.source.enumerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.apache.flink.util.FlinkRuntimeException;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.FakeKinesisClient;
import io.github.pyflinkkinesis.source.KinesisSourceConfig.ConsumerLifecycle;
import io.github.pyflinkkinesis.source.consumer.StreamConsumers;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;

class ConsumerRegistrationTest {
    private final FakeKinesisClient kinesis = new FakeKinesisClient();
    private long now = 1_000_000;

    private ConsumerRegistration registration(ConsumerLifecycle lifecycle) {
        return new ConsumerRegistration(new StreamConsumers(kinesis, "app", new RetryRule(1, 1, Duration.ofSeconds(1), "source.max-retry-time")), lifecycle, () -> now, ms -> now += ms);
    }

    @Test
    void jobManagedRegistersAMissingConsumerWaitsUntilActiveThenDeregisters() throws Exception {
        kinesis.describesUntilActive = 3;
        ConsumerRegistration registration = registration(ConsumerLifecycle.JOB_MANAGED);
        registration.awaitActive("orders");
        assertEquals(ConsumerStatus.ACTIVE, kinesis.consumers.values().iterator().next().consumerStatus());
        assertEquals(List.of("DescribeStreamSummary orders", "Describe app", "Register app", "Describe app",
                "Describe app", "Describe app", "Describe app"), kinesis.consumerCalls);
        assertEquals(4 * ConsumerRegistration.POLL_MS, now - 1_000_000, "it looked again every POLL_MS");

        registration.awaitActive("orders"); // known ACTIVE: no more calls
        assertEquals(7, kinesis.consumerCalls.size());
        registration.deregister(List.of("orders"));
        assertTrue(kinesis.consumers.isEmpty());
    }

    @Test
    void jobManagedUsesAConsumerThatExistsAlready() throws Exception {
        kinesis.registerStreamConsumer(r -> r.streamARN(FakeKinesisClient.streamArn("orders")).consumerName("app"));
        kinesis.consumerCalls.clear();
        registration(ConsumerLifecycle.JOB_MANAGED).awaitActive(FakeKinesisClient.streamArn("orders"));
        assertEquals(List.of("Describe app"), kinesis.consumerCalls, "a stream ARN needs no DescribeStreamSummary");
    }

    @Test
    void selfManagedConsumerThatIsNotRegisteredFailsNamingItAndTheKey() {
        FlinkRuntimeException e = assertThrows(FlinkRuntimeException.class,
                () -> registration(ConsumerLifecycle.SELF_MANAGED).awaitActive("orders"));
        assertEquals("enhanced fan-out consumer 'app' of stream 'orders' is not registered: with source.efo.lifecycle "
                + "SELF_MANAGED, register it first (or use JOB_MANAGED)", e.getMessage());
        assertTrue(kinesis.consumers.isEmpty(), "nothing registered");
    }

    @Test
    void selfManagedConsumerIsNeverDeregistered() throws Exception {
        kinesis.registerStreamConsumer(r -> r.streamARN(FakeKinesisClient.streamArn("orders")).consumerName("app"));
        ConsumerRegistration registration = registration(ConsumerLifecycle.SELF_MANAGED);
        registration.awaitActive("orders");
        registration.deregister(List.of("orders"));
        assertEquals(1, kinesis.consumers.size());
    }

    @Test
    void aConsumerNotActiveInTimeFailsSayingItsState() {
        kinesis.describesUntilActive = Integer.MAX_VALUE;
        FlinkRuntimeException e = assertThrows(FlinkRuntimeException.class,
                () -> registration(ConsumerLifecycle.JOB_MANAGED).awaitActive("orders"));
        assertEquals("enhanced fan-out consumer 'app' of stream 'orders' is not ACTIVE after 120 s (it is CREATING)",
                e.getMessage());
    }

    @Test
    void throttledLookupsAreRetried() throws Exception {
        kinesis.describeConsumerErrors.add(FakeKinesisClient.throttled());
        registration(ConsumerLifecycle.JOB_MANAGED).awaitActive("orders");
        assertEquals(1, kinesis.consumers.size());
        assertEquals(List.of("DescribeStreamSummary orders", "Describe app", "Describe app", "Register app"),
                kinesis.consumerCalls.subList(0, 4));
    }
}
