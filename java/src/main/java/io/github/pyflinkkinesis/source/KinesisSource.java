package io.github.pyflinkkinesis.source;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.types.Row;
import org.apache.flink.util.UserCodeClassLoader;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import io.github.pyflinkkinesis.source.consumer.ConsumerArns;
import io.github.pyflinkkinesis.source.enumerator.KinesisSourceEnumState;
import io.github.pyflinkkinesis.source.enumerator.KinesisSourceEnumStateSerializer;
import io.github.pyflinkkinesis.source.enumerator.KinesisSourceEnumerator;
import io.github.pyflinkkinesis.source.reader.ChildShardsOfFinished;
import io.github.pyflinkkinesis.source.reader.FanOutShardSplitReader;
import io.github.pyflinkkinesis.source.reader.KinesisRecordDeserializer;
import io.github.pyflinkkinesis.source.reader.KinesisRecordEmitter;
import io.github.pyflinkkinesis.source.reader.KinesisShardSplitReader;
import io.github.pyflinkkinesis.source.reader.KinesisSourceReader;
import io.github.pyflinkkinesis.source.reader.RecreatedStreams;
import io.github.pyflinkkinesis.source.reader.RowRecordDeserializer;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.KinesisShardSplitSerializer;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * A Kinesis Data Streams source on Flink's FLIP-27 API: one split per shard, polled with
 * GetRecords or, with {@code source.reader.type} EFO, read through enhanced fan-out subscriptions; KPL
 * aggregates de-aggregated. Built by {@link #create(Map, List)} it emits a {@link Row}
 * with named fields {@code data} (bytes), {@code stream}, {@code shard_id}, {@code partition_key},
 * {@code sequence_number}, {@code sub_sequence_number} (null unless from a KPL aggregate) and
 * {@code arrival_time} (epoch ms, also the record's timestamp); with a {@link KinesisRecordDeserializer},
 * whatever that makes of each record (the SQL table's RowData).
 */
public final class KinesisSource<T>
        implements Source<T, KinesisShardSplit, KinesisSourceEnumState>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    private final List<String> streams;
    private final KinesisSourceConfig config;
    private final AwsClientConfig awsConfig;
    private final KinesisRecordDeserializer<T> deserializer;

    private KinesisSource(List<String> streams, KinesisSourceConfig config, AwsClientConfig awsConfig,
                          KinesisRecordDeserializer<T> deserializer) {
        this.streams = streams;
        this.config = config;
        this.awsConfig = awsConfig;
        this.deserializer = deserializer;
    }

    /**
     * A source reading {@code streams} (names or ARNs) with the {@code aws.*} and {@code source.*}
     * keys of {@code properties}, validated now.
     *
     * @throws IllegalArgumentException naming the key or stream that is wrong
     */
    public static KinesisSource<Row> create(Map<String, String> properties, List<String> streams) {
        return create(properties, streams, new RowRecordDeserializer());
    }

    /** As {@link #create(Map, List)}, emitting what {@code deserializer} makes of each record. */
    public static <T> KinesisSource<T> create(Map<String, String> properties, List<String> streams,
                                              KinesisRecordDeserializer<T> deserializer) {
        Objects.requireNonNull(properties, "properties");
        Objects.requireNonNull(deserializer, "deserializer");
        Objects.requireNonNull(streams, "streams");
        Map<String, String> copy = new HashMap<>(properties);
        KinesisSourceConfig config = KinesisSourceConfig.of(copy);
        AwsClientConfig aws = AwsClientConfig.of(copy);
        Set<String> names = new LinkedHashSet<>();
        List<String> unique = new ArrayList<>();
        for (String stream : streams) {
            if (stream == null || stream.isBlank()) {
                throw new IllegalArgumentException("streams: expected stream names or ARNs, got an empty one");
            }
            String name = KinesisShardSplit.streamName(stream.trim());
            if (names.add(name)) {
                unique.add(stream.trim());
            }
        }
        if (unique.isEmpty()) {
            throw new IllegalArgumentException("streams: expected at least one stream name or ARN");
        }
        if (!config.consumerArns().isEmpty() && !config.consumerArns().keySet().equals(names)) {
            throw new IllegalArgumentException(KinesisSourceConfig.EFO_CONSUMER_ARN + ": expected one consumer ARN for "
                    + "each stream of the source " + names + ", got ARNs for " + config.consumerArns().keySet());
        }
        return new KinesisSource<>(List.copyOf(unique), config, aws, deserializer);
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<T, KinesisShardSplit> createReader(SourceReaderContext readerContext) throws Exception {
        Set<String> names = new LinkedHashSet<>();
        streams.forEach(stream -> names.add(KinesisShardSplit.streamName(stream)));
        deserializer.open(new DeserializationSchema.InitializationContext() {
            @Override
            public MetricGroup getMetricGroup() {
                return readerContext.metricGroup().addGroup("deserializer");
            }

            @Override
            public UserCodeClassLoader getUserCodeClassLoader() {
                return readerContext.getUserCodeClassLoader();
            }
        });
        RecreatedStreams recreated = new RecreatedStreams(stream -> {
            try (KinesisClient client = awsConfig.createSyncClient()) {
                return StreamCreation.lookUp(client, config.retryRule(), stream);
            }
        }, config.streamRecreated());
        if (config.readerType() == KinesisSourceConfig.ReaderType.EFO) {
            ChildShardsOfFinished children = new ChildShardsOfFinished();
            ConsumerArns arns = config.consumerArns().isEmpty()
                    ? ConsumerArns.fromEnumerator() : ConsumerArns.fixed(config.consumerArns());
            return new KinesisSourceReader<>(
                    () -> FanOutShardSplitReader.create(awsConfig, config, readerContext.metricGroup(), children, arns),
                    new KinesisRecordEmitter<>(deserializer), readerContext, names, children, arns, recreated);
        }
        return new KinesisSourceReader<>(
                () -> new KinesisShardSplitReader(awsConfig.createSyncClient(), config, readerContext.metricGroup()),
                new KinesisRecordEmitter<>(deserializer), readerContext, names, new ChildShardsOfFinished(), null,
                recreated);
    }

    @Override
    public SplitEnumerator<KinesisShardSplit, KinesisSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KinesisShardSplit> context) {
        return restoreEnumerator(context, KinesisSourceEnumState.empty());
    }

    @Override
    public SplitEnumerator<KinesisShardSplit, KinesisSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KinesisShardSplit> context, KinesisSourceEnumState state) {
        return new KinesisSourceEnumerator(context, streams, config, awsConfig::createSyncClient, state);
    }

    @Override
    public SimpleVersionedSerializer<KinesisShardSplit> getSplitSerializer() {
        return new KinesisShardSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KinesisSourceEnumState> getEnumeratorCheckpointSerializer() {
        return new KinesisSourceEnumStateSerializer();
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return deserializer.getProducedType();
    }

    @Override
    public String toString() {
        return "KinesisSource{streams=" + streams + ", " + config + ", " + awsConfig + "}";
    }
}
