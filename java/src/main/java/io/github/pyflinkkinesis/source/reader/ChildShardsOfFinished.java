package io.github.pyflinkkinesis.source.reader;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * The children a shard's last enhanced fan-out event named, from the fetcher thread (which puts
 * them) to the source reader (which sends them to the enumerator with the shard's end). Thread-safe.
 */
public final class ChildShardsOfFinished {
    private final Map<String, List<KinesisShardSplit>> bySplitId = new ConcurrentHashMap<>();

    void put(String splitId, List<KinesisShardSplit> children) {
        bySplitId.put(splitId, List.copyOf(children));
    }

    /** The children of the finished split, removed from here; empty if none were named. */
    public List<KinesisShardSplit> take(String splitId) {
        List<KinesisShardSplit> children = bySplitId.remove(splitId);
        return children == null ? List.of() : children;
    }
}
