package io.github.pyflinkkinesis.source;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ConsumerDescription;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.DeregisterStreamConsumerRequest;
import software.amazon.awssdk.services.kinesis.model.DeregisterStreamConsumerResponse;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamConsumerRequest;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamConsumerResponse;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryRequest;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryResponse;
import software.amazon.awssdk.services.kinesis.model.ExpiredIteratorException;
import software.amazon.awssdk.services.kinesis.model.RegisterStreamConsumerRequest;
import software.amazon.awssdk.services.kinesis.model.RegisterStreamConsumerResponse;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;
import software.amazon.awssdk.services.kinesis.model.GetRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorResponse;
import software.amazon.awssdk.services.kinesis.model.InternalFailureException;
import software.amazon.awssdk.services.kinesis.model.InvalidArgumentException;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.SequenceNumberRange;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * An in-memory Kinesis for unit tests: ListShards (paginated), GetShardIterator and GetRecords
 * over scripted shards, with scripted errors; stream consumers (a registered consumer is CREATING for
 * {@link #describesUntilActive} DescribeStreamConsumer calls, then ACTIVE). Like kinesis-local, AT_TIMESTAMP starts at the
 * shard's first record, older ones included, so callers must filter.
 */
public final class FakeKinesisClient extends FakeSdkClient implements KinesisClient {
    public final List<Shard> shards = new ArrayList<>();
    public final Map<String, List<Record>> records = new LinkedHashMap<>();
    public final Set<String> closedShards = new HashSet<>();
    public final List<ListShardsRequest> listShardsRequests = new ArrayList<>();
    public final List<GetShardIteratorRequest> iteratorRequests = new ArrayList<>();
    public final List<GetRecordsRequest> getRecordsRequests = new ArrayList<>();
    public final Deque<RuntimeException> listShardsErrors = new ArrayDeque<>();
    public final Deque<RuntimeException> getRecordsErrors = new ArrayDeque<>();
    public final Deque<RuntimeException> iteratorErrors = new ArrayDeque<>();
    public int pageSize = 1000;
    /** What GetRecords reports as millisBehindLatest once it returned the last record. */
    public long millisBehindAtTip;
    /** Registered consumers by stream ARN and name. */
    public final Map<String, ConsumerDescription> consumers = new LinkedHashMap<>();
    /** The consumer calls made, e.g. {@code Register s/app}, in order. */
    public final List<String> consumerCalls = new ArrayList<>();
    public int describesUntilActive;
    /** What DescribeStreamSummary answers as the stream's creation time. */
    public Instant streamCreated = Instant.ofEpochMilli(1_600_000_000_000L);
    /** DescribeStreamSummary calls made. */
    public int streamSummaryCalls;
    public final Deque<RuntimeException> describeConsumerErrors = new ArrayDeque<>();

    public static Shard shard(String id, String parent, String adjacentParent) {
        return Shard.builder().shardId(id).parentShardId(parent).adjacentParentShardId(adjacentParent)
                .sequenceNumberRange(SequenceNumberRange.builder().startingSequenceNumber("0").build()).build();
    }

    /** Appends a record to {@code shardId}; sequence numbers are the record's index, zero-padded. */
    public String put(String shardId, String partitionKey, byte[] data, long arrivalMillis) {
        List<Record> shardRecords = records.computeIfAbsent(shardId, k -> new ArrayList<>());
        String sequence = String.format("%020d", shardRecords.size());
        shardRecords.add(Record.builder().sequenceNumber(sequence).partitionKey(partitionKey)
                .data(SdkBytes.fromByteArray(data)).approximateArrivalTimestamp(Instant.ofEpochMilli(arrivalMillis))
                .build());
        return sequence;
    }

    public static AwsServiceException throttled() {
        return ProvisionedThroughputExceededException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("ProvisionedThroughputExceededException").build())
                .message("Rate exceeded").build();
    }

    public static AwsServiceException internalFailure() {
        return InternalFailureException.builder().statusCode(500)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("InternalFailure").build()).build();
    }

    public static AwsServiceException notFound() {
        return ResourceNotFoundException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("ResourceNotFoundException")
                        .errorMessage("Stream s not found").build()).build();
    }

    public static AwsServiceException timestampInTheFuture() {
        return InvalidArgumentException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("InvalidArgumentException")
                        .errorMessage("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis.")
                        .build()).build();
    }

    public static AwsServiceException expired() {
        return ExpiredIteratorException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("ExpiredIteratorException").build()).build();
    }

    @Override
    public ListShardsResponse listShards(ListShardsRequest request) {
        listShardsRequests.add(request);
        if (!listShardsErrors.isEmpty()) {
            throw listShardsErrors.poll();
        }
        String start = request.exclusiveStartShardId();
        int from = 0;
        if (request.nextToken() != null) {
            // the token carries the first request's start and the offset reached
            String[] token = request.nextToken().split("\\|", -1);
            start = token[0].isEmpty() ? null : token[0];
            from = Integer.parseInt(token[1]);
        }
        List<Shard> matching = new ArrayList<>();
        for (Shard shard : shards) {
            if (start == null || shard.shardId().compareTo(start) > 0) {
                matching.add(shard);
            }
        }
        int to = Math.min(matching.size(), from + pageSize);
        ListShardsResponse.Builder response = ListShardsResponse.builder().shards(matching.subList(from, to));
        if (to < matching.size()) {
            response.nextToken((start == null ? "" : start) + "|" + to);
        }
        return response.build();
    }

    @Override
    public GetShardIteratorResponse getShardIterator(GetShardIteratorRequest request) {
        iteratorRequests.add(request);
        if (!iteratorErrors.isEmpty()) {
            throw iteratorErrors.poll();
        }
        List<Record> shardRecords = records.getOrDefault(request.shardId(), List.of());
        int index;
        switch (request.shardIteratorType()) {
            case AT_SEQUENCE_NUMBER:
                index = indexOf(shardRecords, request.startingSequenceNumber());
                break;
            case AFTER_SEQUENCE_NUMBER:
                index = indexOf(shardRecords, request.startingSequenceNumber()) + 1;
                break;
            case LATEST:
                index = shardRecords.size();
                break;
            default:
                index = 0;
        }
        return GetShardIteratorResponse.builder().shardIterator(request.shardId() + "#" + index).build();
    }

    @Override
    public GetRecordsResponse getRecords(GetRecordsRequest request) {
        getRecordsRequests.add(request);
        if (!getRecordsErrors.isEmpty()) {
            throw getRecordsErrors.poll();
        }
        String[] parts = request.shardIterator().split("#");
        String shardId = parts[0];
        int index = Integer.parseInt(parts[1]);
        List<Record> shardRecords = records.getOrDefault(shardId, List.of());
        int end = Math.min(shardRecords.size(), index + request.limit());
        String next = closedShards.contains(shardId) && end >= shardRecords.size() ? null : shardId + "#" + end;
        return GetRecordsResponse.builder().records(shardRecords.subList(index, end)).nextShardIterator(next)
                .millisBehindLatest(end < shardRecords.size() ? 1000L : millisBehindAtTip).build();
    }

    public static String streamArn(String name) {
        return "arn:aws:kinesis:us-east-1:000000000000:stream/" + name;
    }

    @Override
    public DescribeStreamSummaryResponse describeStreamSummary(DescribeStreamSummaryRequest request) {
        streamSummaryCalls++;
        consumerCalls.add("DescribeStreamSummary " + request.streamName());
        return DescribeStreamSummaryResponse.builder().streamDescriptionSummary(StreamDescriptionSummary.builder()
                .streamName(request.streamName()).streamARN(streamArn(request.streamName()))
                .streamCreationTimestamp(streamCreated).build()).build();
    }

    @Override
    public RegisterStreamConsumerResponse registerStreamConsumer(RegisterStreamConsumerRequest request) {
        String key = request.streamARN() + "|" + request.consumerName();
        consumerCalls.add("Register " + request.consumerName());
        if (consumers.containsKey(key)) {
            throw ResourceInUseException.builder().statusCode(400)
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("ResourceInUseException").build()).build();
        }
        ConsumerDescription consumer = ConsumerDescription.builder().consumerName(request.consumerName())
                .consumerARN(request.streamARN() + "/consumer/" + request.consumerName() + ":1")
                .streamARN(request.streamARN()).consumerStatus(ConsumerStatus.CREATING).build();
        consumers.put(key, consumer);
        return RegisterStreamConsumerResponse.builder().build();
    }

    @Override
    public DescribeStreamConsumerResponse describeStreamConsumer(DescribeStreamConsumerRequest request) {
        String key = request.streamARN() + "|" + request.consumerName();
        consumerCalls.add("Describe " + request.consumerName());
        if (!describeConsumerErrors.isEmpty()) {
            throw describeConsumerErrors.poll();
        }
        ConsumerDescription consumer = consumers.get(key);
        if (consumer == null) {
            throw notFound();
        }
        if (consumer.consumerStatus() == ConsumerStatus.CREATING && describesUntilActive-- <= 0) {
            consumer = consumer.toBuilder().consumerStatus(ConsumerStatus.ACTIVE).build();
            consumers.put(key, consumer);
        }
        return DescribeStreamConsumerResponse.builder().consumerDescription(consumer).build();
    }

    @Override
    public DeregisterStreamConsumerResponse deregisterStreamConsumer(DeregisterStreamConsumerRequest request) {
        consumerCalls.add("Deregister " + request.consumerARN());
        if (!consumers.values().removeIf(c -> c.consumerARN().equals(request.consumerARN()))) {
            throw notFound();
        }
        return DeregisterStreamConsumerResponse.builder().build();
    }

    private static int indexOf(List<Record> shardRecords, String sequence) {
        for (int i = 0; i < shardRecords.size(); i++) {
            if (shardRecords.get(i).sequenceNumber().equals(sequence)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no record " + sequence);
    }
}
