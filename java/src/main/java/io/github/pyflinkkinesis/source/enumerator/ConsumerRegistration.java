package io.github.pyflinkkinesis.source.enumerator;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.consumer.StreamConsumers;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.model.ConsumerDescription;

/**
 * The enumerator's side of enhanced fan-out: before a stream's shards are handed out, its consumer
 * is ACTIVE. JOB_MANAGED registers a missing consumer and deregisters it when the enumerator closes
 * (the job ended, or restarts: the next enumerator registers it again); SELF_MANAGED uses a consumer
 * the user registered and never deregisters it. The ACTIVE consumer's ARN per stream name goes to the readers
 * ({@link ConsumerArnsEvent}): they never look it up themselves.
 */
final class ConsumerRegistration {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerRegistration.class);
    /** Between two looks at a consumer that is not ACTIVE yet. */
    static final long POLL_MS = 500;

    private final StreamConsumers consumers;
    private final boolean jobManaged;
    private final LongSupplier clock;
    private final Sleeper sleeper;
    /** The ACTIVE consumer's ARN per stream name. */
    private final Map<String, String> active = new ConcurrentHashMap<>();

    /** Waits between looks; a test replaces it. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    ConsumerRegistration(StreamConsumers consumers, KinesisSourceConfig.ConsumerLifecycle lifecycle) {
        this(consumers, lifecycle, System::currentTimeMillis, Thread::sleep);
    }

    ConsumerRegistration(StreamConsumers consumers, KinesisSourceConfig.ConsumerLifecycle lifecycle,
                         LongSupplier clock, Sleeper sleeper) {
        this.consumers = consumers;
        this.jobManaged = lifecycle == KinesisSourceConfig.ConsumerLifecycle.JOB_MANAGED;
        if (jobManaged) {
            StreamConsumers.loadDeregistrationClasses();
        }
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /**
     * Returns once the consumer is ACTIVE on {@code stream} (registered first if JOB_MANAGED), waiting
     * at most {@link StreamConsumers#ACTIVE_TIMEOUT}.
     *
     * @throws FlinkRuntimeException a SELF_MANAGED consumer that is not registered, one not ACTIVE in time,
     *     or a Kinesis call that failed (a fatal error, or failures longer than the total retry time)
     */
    void awaitActive(String stream) throws InterruptedException {
        if (active.containsKey(KinesisShardSplit.streamName(stream))) {
            return;
        }
        String what = "enhanced fan-out consumer '" + consumers.consumerName() + "' of stream '"
                + KinesisShardSplit.streamName(stream) + "'";
        try {
            awaitActive(stream, what);
        } catch (SdkException e) {
            throw new FlinkRuntimeException("Kinesis calls for " + what + " failed: " + KinesisErrors.describe(e), e);
        }
    }

    private void awaitActive(String stream, String what) throws InterruptedException {
        long deadline = clock.getAsLong() + StreamConsumers.ACTIVE_TIMEOUT.toMillis();
        while (true) {
            ConsumerDescription description = consumers.describe(stream);
            String arn = StreamConsumers.activeArn(description);
            if (arn != null) {
                active.put(KinesisShardSplit.streamName(stream), arn);
                return;
            }
            if (description == null && !jobManaged) {
                throw new FlinkRuntimeException(what + " is not registered: with " + KinesisSourceConfig.EFO_LIFECYCLE
                        + " SELF_MANAGED, register it first (or use JOB_MANAGED)");
            }
            if (description == null) {
                consumers.register(stream);
            }
            if (clock.getAsLong() >= deadline) {
                throw new FlinkRuntimeException(what + " is not ACTIVE after " + StreamConsumers.ACTIVE_TIMEOUT.toSeconds()
                        + " s (it is " + (description == null ? "not registered" : description.consumerStatusAsString()) + ")");
            }
            sleeper.sleep(POLL_MS);
        }
    }

    /** The ACTIVE consumer's ARN per stream name, for the streams {@link #awaitActive} returned for. */
    Map<String, String> arns() {
        return new LinkedHashMap<>(active);
    }

    /** A reader found the consumer of {@code streamName} missing: the next {@link #awaitActive} looks again. */
    void forget(String streamName) {
        active.remove(streamName);
    }

    /** JOB_MANAGED: deregisters the consumer from every stream; failures are logged, not thrown. */
    void deregister(Collection<String> streams) {
        if (!jobManaged) {
            return;
        }
        // A closing coordinator may have interrupted this thread; the calls must be made all the same.
        boolean interrupted = Thread.interrupted();
        LOG.info("Deregistering enhanced fan-out consumer '{}' (JOB_MANAGED) from {}", consumers.consumerName(), streams);
        try {
            for (String stream : streams) {
                try {
                    consumers.deregister(stream);
                } catch (InterruptedException e) {
                    interrupted = true;
                    LOG.warn("Deregistering enhanced fan-out consumer '{}' of stream '{}' was interrupted",
                            consumers.consumerName(), KinesisShardSplit.streamName(stream));
                } catch (RuntimeException | LinkageError e) {
                    LOG.warn("Could not deregister enhanced fan-out consumer '{}' of stream '{}': {}",
                            consumers.consumerName(), KinesisShardSplit.streamName(stream), KinesisErrors.describe(e), e);
                }
                active.remove(KinesisShardSplit.streamName(stream));
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
