package io.github.pyflinkkinesis.source.consumer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ConsumerDescription;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.DeregisterStreamConsumerRequest;
import software.amazon.awssdk.services.kinesis.model.DeregisterStreamConsumerResponse;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.transform.DeregisterStreamConsumerRequestMarshaller;

/**
 * One enhanced fan-out consumer name on the streams of a source: looked up, registered and
 * deregistered with the blocking client. No method waits for a state change: callers decide how
 * often to look again (the enumerator at each discovery, a reader before subscribing), at most
 * {@link #ACTIVE_TIMEOUT} in all. Calls are retried by the source's {@link RetryRule}; past its total retry
 * time they fail with a FlinkRuntimeException.
 */
public final class StreamConsumers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamConsumers.class);

    /** How long a consumer may take to become ACTIVE (registration, or a deletion of the same name to end). */
    public static final java.time.Duration ACTIVE_TIMEOUT = java.time.Duration.ofSeconds(120);

    private final KinesisClient client;
    private final String consumerName;
    private final RetryRule retryRule;
    private final Map<String, String> streamArns = new ConcurrentHashMap<>();

    /** @param retryRule how failed calls are retried ({@code source.max-retry-time}) */
    public StreamConsumers(KinesisClient client, String consumerName, RetryRule retryRule) {
        this.client = client;
        this.consumerName = consumerName;
        this.retryRule = retryRule;
    }

    public String consumerName() {
        return consumerName;
    }

    /** The consumer as registered on {@code stream} (name or ARN), or null when it is not registered. */
    public ConsumerDescription describe(String stream) throws InterruptedException {
        String streamArn = streamArn(stream);
        try {
            return retryRule.call("DescribeStreamConsumer of '" + consumerName + "' on stream '" + name(stream) + "'",
                    () -> client.describeStreamConsumer(r -> r.streamARN(streamArn).consumerName(consumerName)))
                    .consumerDescription();
        } catch (ResourceNotFoundException e) {
            return null;
        }
    }

    /** The consumer's ARN if it is ACTIVE, else null (missing, CREATING or DELETING). */
    public static String activeArn(ConsumerDescription description) {
        return description != null && description.consumerStatus() == ConsumerStatus.ACTIVE
                ? description.consumerARN() : null;
    }

    /**
     * Registers the consumer on {@code stream}. A consumer of that name being deleted, or registered
     * meanwhile, answers ResourceInUseException: nothing is done then, the caller looks again later.
     */
    public void register(String stream) throws InterruptedException {
        String streamArn = streamArn(stream);
        String call = "RegisterStreamConsumer of '" + consumerName + "' on stream '" + name(stream) + "'";
        String refused = retryRule.call(call, () -> {
            try {
                client.registerStreamConsumer(r -> r.streamARN(streamArn).consumerName(consumerName));
                return null;
            } catch (ResourceInUseException e) {
                return KinesisErrors.describe(e); // not to be retried here: the caller looks again later
            }
        });
        if (refused == null) {
            LOG.info("Registered enhanced fan-out consumer '{}' on stream '{}'", consumerName, name(stream));
        } else {
            LOG.info("Enhanced fan-out consumer '{}' of stream '{}' cannot be registered yet: {}", consumerName,
                    name(stream), refused);
        }
    }

    /**
     * Loads the classes a deregistration needs, while the job's class loader is open. Flink closes it
     * before it closes the enumerator when a job ends; a class first needed then is not found
     * (NoClassDefFoundError) and the consumer would stay registered.
     */
    public static void loadDeregistrationClasses() {
        DeregisterStreamConsumerRequest.builder().consumerARN("-").build();
        DeregisterStreamConsumerResponse.builder().build();
        ResourceNotFoundException.builder().build();
        try {
            Class.forName(DeregisterStreamConsumerRequestMarshaller.class.getName());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deregisters the consumer from {@code stream}; true if it was registered. */
    public boolean deregister(String stream) throws InterruptedException {
        ConsumerDescription description = describe(stream);
        if (description == null) {
            return false;
        }
        try {
            retryRule.call("DeregisterStreamConsumer of '" + consumerName + "' on stream '" + name(stream) + "'",
                    () -> client.deregisterStreamConsumer(r -> r.consumerARN(description.consumerARN())));
        } catch (ResourceNotFoundException e) {
            return false;
        }
        LOG.info("Deregistered enhanced fan-out consumer '{}' of stream '{}'", consumerName, name(stream));
        return true;
    }

    /** The stream's ARN: {@code stream} itself, or from DescribeStreamSummary (remembered). */
    public String streamArn(String stream) throws InterruptedException {
        if (stream.startsWith("arn:")) {
            return stream;
        }
        String known = streamArns.get(stream);
        if (known != null) {
            return known;
        }
        String arn = retryRule.call("DescribeStreamSummary of stream '" + stream + "'",
                () -> client.describeStreamSummary(r -> r.streamName(stream))).streamDescriptionSummary().streamARN();
        streamArns.put(stream, arn);
        return arn;
    }

    private static String name(String stream) {
        return KinesisShardSplit.streamName(stream);
    }

    /** Closes the client. */
    @Override
    public void close() {
        client.close();
    }
}
