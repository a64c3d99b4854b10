package io.github.pyflinkkinesis.source.reader;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * The children a shard's last enhanced fan-out event named, from the fetcher thread (which puts
 * them) to the source reader (which sends them to the enumerator with the shard's end, until acknowledged).
 * Thread-safe.
 */
public final class ChildShardsOfFinished {
    private final Map<String, List<KinesisShardSplit>> bySplitId = new ConcurrentHashMap<>();

    void put(String splitId, List<KinesisShardSplit> children) {
        bySplitId.put(splitId, List.copyOf(children));
    }

    /** The children of the finished split; empty if none were named. Kept until {@link #forget}: a report is resent. */
    public List<KinesisShardSplit> named(String splitId) {
        List<KinesisShardSplit> children = bySplitId.get(splitId);
        return children == null ? List.of() : children;
    }

    /** The enumerator acknowledged these splits' ends: their children are known there. */
    public void forget(Collection<String> splitIds) {
        bySplitId.keySet().removeAll(splitIds);
    }
}
