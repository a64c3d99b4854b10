package io.github.pyflinkkinesis.sink;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kinesis shard's write limits and the record size limits, read once from {@code shard_limits.json}: the file
 * {@code pyflink_kinesis/spec/shard_limits.json} that the Python side (the Beam writer, the test proxy) reads
 * too, packaged into the jar. Bytes are data plus UTF-8 partition key.
 */
final class ShardLimits {
    static final String RESOURCE = "shard_limits.json";
    private static final Map<String, Long> FIGURES = load();

    /** Records per second a shard takes. */
    static final long SHARD_WRITE_RECORDS = figure("shard_write_records");
    /** Bytes per second a shard takes. */
    static final long SHARD_WRITE_BYTES = figure("shard_write_bytes");
    /** The largest record of a stream that has not raised its limit (no {@code MaxRecordSizeInKiB}). */
    static final int DEFAULT_MAX_RECORD_BYTES = (int) figure("default_max_record_bytes");
    /** The largest record any stream takes: {@code MaxRecordSizeInKiB} is at most 10,240. */
    static final int MAX_RECORD_SIZE_LIMIT = (int) figure("max_record_size_limit");

    private ShardLimits() {
    }

    private static long figure(String name) {
        Long value = FIGURES.get(name);
        if (value == null) {
            throw new IllegalStateException(RESOURCE + ": no whole number \"" + name + "\"");
        }
        return value;
    }

    /** The file's {@code "name": number} pairs (its only other field is the text "about"). */
    private static Map<String, Long> load() {
        try (InputStream in = ShardLimits.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not packaged beside " + ShardLimits.class.getName());
            }
            Map<String, Long> out = new HashMap<>();
            Matcher pair = Pattern.compile("\"(\\w+)\"\\s*:\\s*(\\d+)").matcher(
                    new String(in.readAllBytes(), StandardCharsets.UTF_8));
            while (pair.find()) {
                out.put(pair.group(1), Long.parseLong(pair.group(2)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
