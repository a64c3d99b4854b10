package io.github.pyflinkkinesis.source.reader;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

/**
 * A metric group that keeps the gauges and counters registered under it by their group path, e.g.
 * {@code stream/orders/shard/shardId-7/millisBehindLatest}; a counter registered twice on one path is one counter,
 * as in Flink.
 */
final class RecordingMetricGroup extends UnregisteredMetricsGroup {
    final Map<String, Gauge<?>> gauges;
    final Map<String, Counter> counters;
    private final String path;

    RecordingMetricGroup() {
        this(new LinkedHashMap<>(), new LinkedHashMap<>(), "");
    }

    private RecordingMetricGroup(Map<String, Gauge<?>> gauges, Map<String, Counter> counters, String path) {
        this.gauges = gauges;
        this.counters = counters;
        this.path = path;
    }

    @Override
    public MetricGroup addGroup(String key, String value) {
        return new RecordingMetricGroup(gauges, counters, path + key + "/" + value + "/");
    }

    @Override
    public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
        gauges.put(path + name, gauge);
        return gauge;
    }

    @Override
    public Counter counter(String name) {
        return counters.computeIfAbsent(path + name, k -> new SimpleCounter());
    }

    /** The counter's count at {@code fullPath}, or -1 if none was registered there. */
    long count(String fullPath) {
        Counter counter = counters.get(fullPath);
        return counter == null ? -1 : counter.getCount();
    }
}
