package io.github.pyflinkkinesis;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.util.TimeUtils;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import io.github.pyflinkkinesis.sink.KinesisSinkConfig;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;

/**
 * The connector's keys are the key registry's ({@code pyflink_kinesis/spec/keys.json}, packaged into the jar):
 * every key a class of the connector declares (a {@code static final String} that looks like an
 * {@code aws.}/{@code source.}/{@code sink.} key, or a {@link ConfigOption}) is an entry the registry says the
 * connector ({@code flink}) or its SQL table ({@code sql}) acts on, and the other way round; and the defaults
 * the Java classes apply are the registry's. Credential sub-keys ({@code "relative"}) are read under a
 * provider prefix, not declared as constants: tests of AwsClientConfig cover them.
 */
class KeyRegistryTest {
    private static final String RESOURCE = "keys.json";
    private static final Pattern KEY = Pattern.compile("(aws|source|sink)\\.[A-Za-z0-9.-]+");
    private static final String PACKAGE = "io/github/pyflinkkinesis/";

    /** The Java default of each key whose default the Java API shows. */
    private static final Map<String, Supplier<Object>> JAVA_DEFAULTS = javaDefaults();
    /** Keys with a registry default that no Java accessor shows (checked where they are read). */
    private static final Set<String> DEFAULTS_NOT_SHOWN = Set.of("aws.credentials.provider", "aws.trust.all.certificates", "aws.emulator",
            "aws.http.protocol.version", "source.init.timestamp.format", "sink.partitioner-field-delimiter");

    private static Map<String, Supplier<Object>> javaDefaults() {
        Map<String, String> none = Collections.emptyMap();
        Map<String, Supplier<Object>> d = new HashMap<>();
        d.put("source.init.position", () -> KinesisSourceConfig.of(none).initialPosition().name());
        d.put("source.shard.discovery.interval", () -> KinesisSourceConfig.of(none).discoveryInterval().toMillis());
        d.put("source.shard.get-records.max-record-count", () -> (long) KinesisSourceConfig.of(none).maxRecordCount());
        d.put("source.reader.empty-records-fetch-interval", () -> KinesisSourceConfig.of(none).emptyFetchInterval().toMillis());
        d.put("source.reader.type", () -> KinesisSourceConfig.of(none).readerType().name());
        d.put("source.stream-recreated", () -> KinesisSourceConfig.of(none).streamRecreated().name());
        d.put("source.efo.lifecycle", () -> KinesisSourceConfig.of(none).consumerLifecycle().name());
        d.put("source.efo.subscription.timeout", () -> KinesisSourceConfig.of(none).subscriptionTimeout().toMillis());
        d.put("sink.batch.max-size", () -> (long) KinesisSinkConfig.of(none).maxBatchSize());
        d.put("sink.requests.max-inflight", () -> (long) KinesisSinkConfig.of(none).maxInFlightRequests());
        d.put("sink.requests.max-buffered", () -> (long) KinesisSinkConfig.of(none).maxBufferedRequests());
        d.put("sink.flush-buffer.size", () -> KinesisSinkConfig.of(none).maxBatchSizeInBytes());
        d.put("sink.flush-buffer.timeout", () -> KinesisSinkConfig.of(none).maxTimeInBufferMs());
        d.put("sink.skip-oversized-records", () -> KinesisSinkConfig.of(none).skipOversizedRecords());
        d.put("sink.fail-on-error", () -> KinesisSinkConfig.of(none).failOnError());
        d.put("sink.fail-on-throttling", () -> KinesisSinkConfig.of(none).failOnThrottling());
        d.put("sink.aggregation.enabled", () -> KinesisSinkConfig.of(none).aggregationEnabled());
        d.put("sink.aggregation.max-count", () -> KinesisSinkConfig.of(none).aggregationMaxCount());
        d.put("sink.aggregation.max-size", () -> (long) KinesisSinkConfig.of(none).aggregationMaxSize());
        d.put("sink.max-retry-time", () -> KinesisSinkConfig.of(none).retryRule().maxRetryMillis());
        d.put("source.max-retry-time", () -> KinesisSourceConfig.of(none).retryRule().maxRetryMillis());
        d.put("aws.http-client.read-timeout", () -> AwsClientConfig.DEFAULT_READ_TIMEOUT.toMillis());
        return d;
    }

    @Test
    void theConnectorDeclaresExactlyTheKeysTheRegistrySaysItActsOn() throws Exception {
        Set<String> java = javaKeys();
        Set<String> registry = registryKeys(registry());
        Set<String> notInRegistry = new TreeSet<>(java);
        notInRegistry.removeAll(registry);
        notInRegistry.removeIf(KeyRegistryTest::isNamespace);
        Set<String> notInJava = new TreeSet<>(registry);
        notInJava.removeAll(java);
        assertTrue(notInRegistry.isEmpty(), "keys the connector declares that keys.json does not give to the "
                + "'flink' or 'sql' path (add them to pyflink_kinesis/spec/keys.json): " + notInRegistry);
        assertTrue(notInJava.isEmpty(), "keys that keys.json says the connector acts on but no connector class "
                + "declares: " + notInJava);
    }

    /**
     * A constant such as {@code "aws.credentials"} that keys of the registry start with, or one ending with a dot
     * (no key does), is a prefix, not a key.
     */
    private static boolean isNamespace(String value) {
        if (value.endsWith(".")) {
            return true;
        }
        try {
            return entries(registry()).keySet().stream().anyMatch(key -> key.startsWith(value + "."));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theSinkAcceptsEverySinkKeyTheRegistryGivesIt() throws Exception {
        Map<String, JsonNode> entries = entries(registry());
        for (String key : registryKeys(registry())) {
            JsonNode entry = entries.get(key);
            // keys only the SQL path acts on (the partitioner) are the table factory's, not the sink's
            if (key.startsWith("sink.") && entry.has("default") && honouredBy(entry, "flink")) {
                assertDoesNotThrow(() -> KinesisSinkConfig.of(Map.of(key, entry.get("default").asText())), key);
            }
        }
    }

    @Test
    void theJavaDefaultsAreTheRegistrys() throws Exception {
        Map<String, JsonNode> entries = entries(registry());
        for (String key : registryKeys(registry())) {
            JsonNode entry = entries.get(key);
            JsonNode dflt = entry.has("jar_default") ? entry.get("jar_default") : entry.get("default");
            if (dflt == null || dflt.isNull()) {
                continue;
            }
            if (DEFAULTS_NOT_SHOWN.contains(key)) {
                continue;
            }
            Supplier<Object> java = JAVA_DEFAULTS.get(key);
            assertNotNull(java, key + ": keys.json gives it a default; add how to read the Java one to this test");
            assertEquals(parse(entry.get("type").asText(), dflt.asText()), java.get(), key + " default");
        }
    }

    /** The registry's default as the Java accessors give it: milliseconds, bytes, whole numbers, booleans, names. */
    private static Object parse(String type, String text) {
        switch (type) {
            case "duration":
                return TimeUtils.parseDuration(text).toMillis();
            case "bytes":
                return MemorySize.parseBytes(text);
            case "int":
                return Long.parseLong(text);
            case "bool":
                return Boolean.parseBoolean(text);
            default:
                return text;
        }
    }

    static JsonNode registry() throws IOException {
        try (InputStream in = KeyRegistryTest.class.getResourceAsStream(RESOURCE)) {
            assertNotNull(in, RESOURCE + " is not packaged beside " + KeyRegistryTest.class.getName() + " (see pom.xml)");
            return new ObjectMapper().readTree(in);
        }
    }

    private static Map<String, JsonNode> entries(JsonNode root) {
        Map<String, JsonNode> out = new TreeMap<>();
        for (JsonNode entry : root.get("keys")) {
            JsonNode names = entry.has("names") ? entry.get("names") : null;
            if (names == null) {
                out.put(entry.get("key").asText(), entry);
            } else {
                names.forEach(name -> out.put(name.asText(), entry));
            }
        }
        return out;
    }

    private static boolean honouredBy(JsonNode entry, String path) {
        for (JsonNode name : entry.path("honoured")) {
            if (name.asText().equals(path)) {
                return true;
            }
        }
        return false;
    }

    /** Keys the registry gives the jar (the {@code flink} and {@code sql} paths), credential sub-keys aside. */
    static Set<String> registryKeys(JsonNode root) {
        Set<String> out = new TreeSet<>();
        entries(root).forEach((key, entry) -> {
            String kind = entry.path("kind").asText();
            if (entry.path("relative").asBoolean(false) || !(kind.equals("connector") || kind.equals("table"))) {
                return;  // credential sub-keys are read under a prefix; SDK v1 names are translated in Python
            }
            if (honouredBy(entry, "flink") || honouredBy(entry, "sql")) {
                out.add(key);
            }
        });
        return out;
    }

    /** Every key a class of the connector declares, found by reflection over the compiled classes. */
    static Set<String> javaKeys() throws IOException, URISyntaxException, ReflectiveOperationException {
        Path root = Paths.get(KinesisSinkConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> classes;
        try (Stream<Path> files = Files.walk(root.resolve(PACKAGE))) {
            classes = files.map(f -> root.relativize(f).toString().replace('\\', '/'))
                    .filter(f -> f.endsWith(".class"))
                    .map(f -> f.substring(0, f.length() - ".class".length()).replace('/', '.'))
                    .collect(Collectors.toCollection(ArrayList::new));
        }
        Set<String> keys = new TreeSet<>();
        for (String name : classes) {
            Class<?> type = Class.forName(name, false, KeyRegistryTest.class.getClassLoader());
            for (Field field : type.getDeclaredFields()) {
                keys.addAll(declaredKey(field));
            }
        }
        return keys;
    }

    private static Set<String> declaredKey(Field field) throws IllegalAccessException {
        int modifiers = field.getModifiers();
        if (!Modifier.isStatic(modifiers) || !Modifier.isFinal(modifiers) || field.isSynthetic()) {
            return Collections.emptySet();
        }
        if (field.getType() == String.class) {
            field.setAccessible(true);
            Object value = field.get(null);
            return value != null && KEY.matcher((String) value).matches() ? Set.of((String) value) : Collections.emptySet();
        }
        if (ConfigOption.class.isAssignableFrom(field.getType())) {
            field.setAccessible(true);
            return Set.of(((ConfigOption<?>) field.get(null)).key());
        }
        return Collections.emptySet();
    }
}
