package io.github.pyflinkkinesis.table;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import io.github.pyflinkkinesis.sink.KinesisSinkConfig;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;

/**
 * The options of a {@code 'pyflink-kinesis'} table: the official {@code 'kinesis'} table's keys, typed.
 *
 * <p>The {@code aws.*}, {@code source.*} and {@code sink.*} batching keys are declared here for SQL's validation
 * and documentation; their values are passed on, as text, to {@link AwsClientConfig}, {@link KinesisSourceConfig}
 * and {@link KinesisSinkConfig}, which read and check them (one place for each rule).
 */
public final class KinesisTableOptions {
    private KinesisTableOptions() {
    }

    /** SQL's credential keys drop the word {@code provider}: {@code aws.credentials.basic.accesskeyid}. */
    static final String SQL_CREDENTIALS = "aws.credentials";
    /** The nested provider of ASSUME_ROLE credentials: its keys are checked by {@link AwsClientConfig}. */
    static final String ROLE_PROVIDER_PREFIX = SQL_CREDENTIALS + ".role.provider.";

    public static final ConfigOption<String> STREAM_ARN = ConfigOptions.key("stream.arn").stringType().noDefaultValue()
            .withDescription("The stream's ARN. A table names one stream, by ARN or by name ('stream').");
    public static final ConfigOption<String> STREAM = ConfigOptions.key("stream").stringType().noDefaultValue()
            .withDescription("The stream's name, instead of 'stream.arn'. A sink row's 'stream' metadata column "
                    + "overrides it; a sink with that column needs neither.");

    public static final ConfigOption<String> SINK_PARTITIONER = ConfigOptions.key("sink.partitioner").stringType()
            .defaultValue("random")
            .withDescription("The partition key of a written row when its 'partition-key' metadata column is unset: "
                    + "'random' (a new UUID per row), 'fixed' (the writing subtask's index), or, when the table is "
                    + "PARTITIONED BY columns, their values joined by 'sink.partitioner-field-delimiter'.");
    public static final ConfigOption<String> SINK_PARTITIONER_FIELD_DELIMITER = ConfigOptions
            .key("sink.partitioner-field-delimiter").stringType().defaultValue("|")
            .withDescription("Joins the values of the PARTITIONED BY columns into a partition key.");

    static final List<ConfigOption<?>> AWS = List.of(
            text(AwsClientConfig.REGION, "The AWS region; required unless the default provider chain has one."),
            text(AwsClientConfig.ENDPOINT, "A custom endpoint URL (a local Kinesis, a VPC endpoint)."),
            ConfigOptions.key(AwsClientConfig.EMULATOR).booleanType().defaultValue(false)
                    .withDescription("The endpoint is a local Kinesis emulator (kinesis-local): work around what it "
                            + "lacks (fan-out shard ends)."),
            text(SQL_CREDENTIALS + ".provider",
                    "AUTO (default chain), BASIC, ENV_VAR, SYS_PROP, PROFILE, ASSUME_ROLE or WEB_IDENTITY_TOKEN."),
            text(SQL_CREDENTIALS + ".basic.accesskeyid", "BASIC: the access key id."),
            text(SQL_CREDENTIALS + ".basic.secretkey", "BASIC: the secret key."),
            text(SQL_CREDENTIALS + ".profile.name", "PROFILE: the profile's name."),
            text(SQL_CREDENTIALS + ".profile.path", "PROFILE: the credentials file."),
            text(SQL_CREDENTIALS + ".role.arn", "ASSUME_ROLE, WEB_IDENTITY_TOKEN: the role's ARN."),
            text(SQL_CREDENTIALS + ".role.sessionName", "ASSUME_ROLE, WEB_IDENTITY_TOKEN: the session's name."),
            text(SQL_CREDENTIALS + ".role.externalId", "ASSUME_ROLE: the external id."),
            text(SQL_CREDENTIALS + ".role.provider",
                    "ASSUME_ROLE: the credentials that assume the role (their keys under 'aws.credentials.role.provider.')."),
            text(SQL_CREDENTIALS + ".webIdentityToken.file", "WEB_IDENTITY_TOKEN: the token file."),
            ConfigOptions.key(AwsClientConfig.TRUST_ALL).booleanType().defaultValue(false)
                    .withDescription("Trust any TLS certificate (local emulators only)."),
            text(AwsClientConfig.PROTOCOL, "HTTP2 or HTTP1_1, for the asynchronous client."),
            ConfigOptions.key(AwsClientConfig.MAX_CONCURRENCY).intType().noDefaultValue()
                    .withDescription("Connections per HTTP client."),
            ConfigOptions.key(AwsClientConfig.READ_TIMEOUT).intType().noDefaultValue()
                    .withDescription("HTTP read timeout, in milliseconds."));

    static final List<ConfigOption<?>> SOURCE = List.of(
            ConfigOptions.key(KinesisSourceConfig.INIT_POSITION).stringType()
                    .defaultValue(KinesisSourceConfig.InitialPosition.LATEST.name())
                    .withDescription("Where a job without saved state starts: LATEST, TRIM_HORIZON or AT_TIMESTAMP."),
            text(KinesisSourceConfig.INIT_TIMESTAMP, "AT_TIMESTAMP: epoch seconds, or a date-time in "
                    + "'source.init.timestamp.format'."),
            ConfigOptions.key(KinesisSourceConfig.INIT_TIMESTAMP_FORMAT).stringType()
                    .defaultValue(KinesisSourceConfig.DEFAULT_TIMESTAMP_FORMAT)
                    .withDescription("The pattern of 'source.init.timestamp'."),
            ConfigOptions.key(KinesisSourceConfig.DISCOVERY_INTERVAL).durationType()
                    .defaultValue(KinesisSourceConfig.DEFAULT_DISCOVERY_INTERVAL).withDescription("How often new shards are looked for."),
            ConfigOptions.key(KinesisSourceConfig.MAX_RECORD_COUNT).intType()
                    .defaultValue(KinesisSourceConfig.MAX_RECORDS_PER_CALL)
                    .withDescription("Records per GetRecords call (1 to 10000)."),
            ConfigOptions.key(KinesisSourceConfig.EMPTY_FETCH_INTERVAL).durationType()
                    .defaultValue(KinesisSourceConfig.DEFAULT_EMPTY_FETCH_INTERVAL)
                    .withDescription("The pause after a GetRecords call that returned nothing."),
            ConfigOptions.key(KinesisSourceConfig.READER_TYPE).stringType()
                    .defaultValue(KinesisSourceConfig.ReaderType.POLLING.name())
                    .withDescription("POLLING (GetRecords) or EFO (enhanced fan-out: SubscribeToShard)."),
            text(KinesisSourceConfig.EFO_CONSUMER_NAME, "EFO: the enhanced fan-out consumer's name (required unless "
                    + "'source.efo.consumer.arn' is given)."),
            text(KinesisSourceConfig.EFO_CONSUMER_ARN, "EFO: a registered consumer's ARN on each stream, comma-separated: "
                    + "neither looked up nor registered (SELF_MANAGED)."),
            ConfigOptions.key(KinesisSourceConfig.EFO_LIFECYCLE).stringType()
                    .defaultValue(KinesisSourceConfig.ConsumerLifecycle.JOB_MANAGED.name())
                    .withDescription("EFO: JOB_MANAGED (the job registers and deregisters the consumer) or "
                            + "SELF_MANAGED (registered beforehand)."),
            ConfigOptions.key(KinesisSourceConfig.EFO_SUBSCRIPTION_TIMEOUT).durationType()
                    .defaultValue(KinesisSourceConfig.DEFAULT_SUBSCRIPTION_TIMEOUT)
                    .withDescription("EFO: a subscription without an event for this long is renewed."),
            ConfigOptions.key(KinesisSourceConfig.STREAM_RECREATED).stringType()
                    .defaultValue(KinesisSourceConfig.StreamRecreated.FAIL.name())
                    .withDescription("A stream deleted and created again since the checkpoint: FAIL, or START_OVER "
                            + "from 'source.init.position'."));

    static final List<ConfigOption<?>> SINK = List.of(
            ConfigOptions.key(KinesisSinkConfig.BATCH_MAX_SIZE).intType().defaultValue(KinesisSinkConfig.MAX_BATCH_RECORDS)
                    .withDescription("Records per PutRecords call (at most 500, below 'sink.requests.max-buffered')."),
            ConfigOptions.key(KinesisSinkConfig.MAX_INFLIGHT).intType().defaultValue(KinesisSinkConfig.DEFAULT_MAX_INFLIGHT)
                    .withDescription("PutRecords calls in flight per writer."),
            ConfigOptions.key(KinesisSinkConfig.MAX_BUFFERED).intType().defaultValue(KinesisSinkConfig.DEFAULT_MAX_BUFFERED)
                    .withDescription("Records buffered per writer before it applies backpressure."),
            ConfigOptions.key(KinesisSinkConfig.FLUSH_SIZE).memoryType()
                    .defaultValue(new MemorySize(KinesisSinkConfig.MAX_BATCH_BYTES))
                    .withDescription("Bytes per PutRecords call (at most 5 MiB)."),
            ConfigOptions.key(KinesisSinkConfig.FLUSH_TIMEOUT).durationType()
                    .defaultValue(Duration.ofMillis(KinesisSinkConfig.DEFAULT_FLUSH_TIMEOUT_MS))
                    .withDescription("The longest a record waits in the buffer."),
            ConfigOptions.key(KinesisSinkConfig.SKIP_OVERSIZED).booleanType().defaultValue(false)
                    .withDescription("Skip (and count) records over their stream's size limit instead of failing."),
            ConfigOptions.key(KinesisSinkConfig.FAIL_ON_ERROR).booleanType().defaultValue(false)
                    .withDescription("Fail the job on any failed record instead of retrying it."),
            ConfigOptions.key(KinesisSinkConfig.FAIL_ON_THROTTLING).booleanType().defaultValue(false)
                    .withDescription("Fail the job on the first throttled row (naming the stream and shard) instead of "
                            + "retrying it."),
            ConfigOptions.key(KinesisSinkConfig.AGGREGATION_ENABLED).booleanType().defaultValue(false)
                    .withDescription("Pack the rows bound for one shard into KPL-format aggregated records (readers "
                            + "must de-aggregate: KCL, aws-kinesis-agg, this connector's source)."),
            ConfigOptions.key(KinesisSinkConfig.AGGREGATION_MAX_COUNT).longType()
                    .defaultValue(KinesisSinkConfig.DEFAULT_AGGREGATION_MAX_COUNT)
                    .withDescription("User records per aggregated record at most."),
            ConfigOptions.key(KinesisSinkConfig.AGGREGATION_MAX_SIZE).memoryType()
                    .defaultValue(new MemorySize(KinesisSinkConfig.DEFAULT_AGGREGATION_MAX_SIZE))
                    .withDescription("Bytes of an aggregated record at most; a larger row goes alone."),
            ConfigOptions.key(KinesisSinkConfig.RECORD_TTL).durationType().noDefaultValue()
                    .withDescription("A row not written within this time since it entered the sink is dropped and "
                            + "counted (numExpiredRecordsDropped, a warning naming the stream); with "
                            + "'sink.fail-on-error' the job fails instead. Unset: never dropped."),
            ConfigOptions.key(KinesisSinkConfig.RATE_LIMIT).intType().noDefaultValue()
                    .withDescription("Paces each shard at this percent of its 1,000 records/s and 1 MiB/s, per "
                            + "writer. Unset: no pacing (throttled rows are retried)."),
            ConfigOptions.key(KinesisSinkConfig.MAX_RECORD_SIZE).memoryType().noDefaultValue()
                    .withDescription("The largest row (data plus partition key), at most 10 MiB. Unset: the "
                            + "stream's MaxRecordSizeInKiB (DescribeStreamSummary) where reported, else 1 MiB."));

    private static ConfigOption<String> text(String key, String description) {
        return ConfigOptions.key(key).stringType().noDefaultValue().withDescription(description);
    }

    /** Every option a source table accepts besides connector and format. */
    static Set<ConfigOption<?>> sourceOptions() {
        Set<ConfigOption<?>> out = new LinkedHashSet<>(List.of(STREAM_ARN, STREAM));
        out.addAll(AWS);
        out.addAll(SOURCE);
        return out;
    }

    /** Every option a sink table accepts besides connector and format. */
    static Set<ConfigOption<?>> sinkOptions() {
        Set<ConfigOption<?>> out = new LinkedHashSet<>(List.of(STREAM_ARN, STREAM, SINK_PARTITIONER,
                SINK_PARTITIONER_FIELD_DELIMITER));
        out.addAll(AWS);
        out.addAll(SINK);
        return out;
    }

    /** Both: a factory declares one set for its source and its sink. */
    static Set<ConfigOption<?>> allOptions() {
        Set<ConfigOption<?>> out = sourceOptions();
        out.addAll(sinkOptions());
        return out;
    }

    /**
     * The table's {@code aws.*} and {@code prefix} keys in the connector's own names (credential keys regain
     * {@code provider}), for {@link AwsClientConfig} and the source or sink config.
     */
    static Map<String, String> connectorProperties(Map<String, String> tableOptions, List<ConfigOption<?>> own) {
        Set<String> ownKeys = new LinkedHashSet<>();
        own.forEach(option -> ownKeys.add(option.key()));
        Map<String, String> out = new HashMap<>();
        tableOptions.forEach((key, value) -> {
            if (ownKeys.contains(key)) {
                out.put(key, value);
            } else if (key.startsWith(SQL_CREDENTIALS + ".") && !key.startsWith(SQL_CREDENTIALS + ".provider")) {
                out.put(SQL_CREDENTIALS + ".provider" + key.substring(SQL_CREDENTIALS.length()), value);
            } else if (key.startsWith("aws.")) {
                out.put(key, value);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** The keys of {@code options}, for messages. */
    static List<String> keys(Set<ConfigOption<?>> options) {
        List<String> out = new ArrayList<>();
        options.forEach(option -> out.add(option.key()));
        return out;
    }
}
