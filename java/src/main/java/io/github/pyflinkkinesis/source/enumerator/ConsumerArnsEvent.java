package io.github.pyflinkkinesis.source.enumerator;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.connector.source.SourceEvent;

/**
 * Enhanced fan-out: between the enumerator and the readers. From the enumerator, the consumer's ARN per stream
 * name, once it is ACTIVE ({@link #arns()}); from a reader, the stream names whose consumer a subscription found
 * missing, to look up again ({@link #lookups()}).
 */
public final class ConsumerArnsEvent implements SourceEvent {
    private static final long serialVersionUID = 1L;

    private final LinkedHashMap<String, String> arns;
    private final List<String> lookups;

    private ConsumerArnsEvent(Map<String, String> arns, List<String> lookups) {
        this.arns = new LinkedHashMap<>(arns);
        this.lookups = List.copyOf(lookups);
    }

    /** The enumerator's answer: the consumer's ARN per stream name. */
    public static ConsumerArnsEvent arns(Map<String, String> arns) {
        return new ConsumerArnsEvent(arns, List.of());
    }

    /** A reader's request: look these streams' consumer up again. */
    public static ConsumerArnsEvent lookups(List<String> streamNames) {
        return new ConsumerArnsEvent(Map.of(), streamNames);
    }

    public Map<String, String> arns() {
        return arns;
    }

    public List<String> lookups() {
        return lookups;
    }

    @Override
    public String toString() {
        return "ConsumerArnsEvent" + (lookups.isEmpty() ? arns.toString() : "{lookups=" + lookups + "}");
    }
}
