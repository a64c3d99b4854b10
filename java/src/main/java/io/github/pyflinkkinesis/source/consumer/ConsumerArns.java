package io.github.pyflinkkinesis.source.consumer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A reader's enhanced fan-out consumer ARNs, per stream name: handed over by the enumerator, which looks the
 * consumer up (and registers it if JOB_MANAGED), or fixed by {@code source.efo.consumer.arn}. The fetcher thread
 * reads them and never calls DescribeStreamConsumer itself; when a subscription finds the consumer missing (it was
 * registered again under a new ARN) it asks, through the reader, for a new lookup ({@link #missing}). Thread-safe.
 */
public final class ConsumerArns {
    private final Map<String, String> byStream = new ConcurrentHashMap<>();
    private final Set<String> lookups = ConcurrentHashMap.newKeySet();
    private final boolean fixed;

    private ConsumerArns(Map<String, String> arns, boolean fixed) {
        byStream.putAll(arns);
        this.fixed = fixed;
    }

    /** ARNs the enumerator will hand over. */
    public static ConsumerArns fromEnumerator() {
        return new ConsumerArns(Map.of(), false);
    }

    /** ARNs given by configuration, per stream name: never looked up. */
    public static ConsumerArns fixed(Map<String, String> arns) {
        return new ConsumerArns(arns, true);
    }

    /** The consumer's ARN on the stream named {@code streamName}, or null while it is not known yet. */
    public String get(String streamName) {
        return byStream.get(streamName);
    }

    /** The enumerator's ARNs, per stream name. */
    public void update(Map<String, String> arns) {
        byStream.putAll(arns);
    }

    /**
     * A subscription with {@code arn} found the consumer missing: unless the ARN is fixed, it is forgotten and a new
     * lookup is asked for ({@link #takeLookups}).
     */
    public void missing(String streamName, String arn) {
        if (!fixed && byStream.remove(streamName, arn)) {
            lookups.add(streamName);
        }
    }

    /** The stream names to look up again, taken from here; empty mostly. */
    public List<String> takeLookups() {
        if (lookups.isEmpty()) {
            return List.of();
        }
        List<String> taken = new ArrayList<>();
        for (String stream : lookups) {
            if (lookups.remove(stream)) {
                taken.add(stream);
            }
        }
        return taken;
    }
}
