package io.github.pyflinkkinesis.aws;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.ProtocolNegotiation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpConfigurationOption;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.utils.AttributeMap;

/**
 * The HTTP clients' settings from the {@code aws.http*} keys, with the official connector's defaults: a
 * read timeout of 6 minutes (shorter, a slow answer to a PutRecords that Kinesis stored makes the sink send
 * it again: duplicates) and 60 s to get a pooled connection.
 */
public final class HttpClientSettings {
    static final String TRUST_ALL = "aws.trust.all.certificates";
    static final String PROTOCOL = "aws.http.protocol.version";
    static final String MAX_CONCURRENCY = "aws.http-client.max-concurrency";
    static final String READ_TIMEOUT = "aws.http-client.read-timeout";

    /** The official connector's HTTP read timeout, for its sync and async clients alike. */
    static final Duration DEFAULT_READ_TIMEOUT = Duration.ofMinutes(6);
    static final Duration CONNECTION_ACQUISITION_TIMEOUT = Duration.ofSeconds(60);
    /** Subscriptions one enhanced fan-out reader may hold at once by default: one per shard it reads. */
    static final int SUBSCRIPTIONS_MAX_CONCURRENCY = 10_000;

    private final Integer maxConcurrency;
    private final Duration readTimeout;
    private final boolean trustAllCertificates;
    private final boolean http11;

    /** Reads and validates the keys; errors name the key. */
    HttpClientSettings(Map<String, String> properties) {
        maxConcurrency = positiveInt(properties, MAX_CONCURRENCY);
        Integer readTimeoutMs = positiveInt(properties, READ_TIMEOUT);
        readTimeout = readTimeoutMs == null ? DEFAULT_READ_TIMEOUT : Duration.ofMillis(readTimeoutMs);
        trustAllCertificates = Boolean.parseBoolean(properties.getOrDefault(TRUST_ALL, "false"));
        http11 = "HTTP1_1".equalsIgnoreCase(properties.getOrDefault(PROTOCOL, "HTTP2"));
    }

    private static Integer positiveInt(Map<String, String> properties, String key) {
        String value = properties.get(key);
        if (value == null) {
            return null;
        }
        try {
            int n = (int) Double.parseDouble(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException(key + ": expected a whole number > 0, got '" + value + "'");
    }

    public Duration readTimeout() {
        return readTimeout;
    }

    /** A blocking Apache HTTP client (HTTP/1.1), handed over as a builder: see {@link OwnedHttpClient}. */
    SdkHttpClient.Builder<?> apache() {
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .socketTimeout(readTimeout)
                .connectionAcquisitionTimeout(CONNECTION_ACQUISITION_TIMEOUT);
        if (maxConcurrency != null) {
            http.maxConnections(maxConcurrency);
        }
        AttributeMap options = options();
        return new OwnedHttpClient(defaults -> http.buildWithDefaults(options.merge(defaults)));
    }

    /**
     * A non-blocking Netty client, handed over as a builder: see {@link OwnedAsyncHttpClient}.
     *
     * @param http2Only HTTP/2 whatever {@code aws.http.protocol.version} says (SubscribeToShard needs it)
     * @param endpoint the custom endpoint, or null for the region's own
     * @param defaultMaxConcurrency the connections/streams when {@code aws.http-client.max-concurrency} is unset, or null
     */
    SdkAsyncHttpClient.Builder<?> netty(boolean http2Only, URI endpoint, Integer defaultMaxConcurrency) {
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                .readTimeout(readTimeout)
                .connectionAcquisitionTimeout(CONNECTION_ACQUISITION_TIMEOUT);
        Integer concurrency = maxConcurrency != null ? maxConcurrency : defaultMaxConcurrency;
        if (concurrency != null) {
            http.maxConcurrency(concurrency);
        }
        boolean http1 = http11 && !http2Only;
        http.protocol(http1 ? Protocol.HTTP1_1 : Protocol.HTTP2);
        if (!http1 && negotiatesByAlpn(endpoint)) {
            http.protocolNegotiation(ProtocolNegotiation.ALPN);
        }
        AttributeMap options = options();
        return new OwnedAsyncHttpClient(defaults -> http.buildWithDefaults(options.merge(defaults)));
    }

    /**
     * HTTP/2 is negotiated by ALPN on a custom {@code https://} endpoint, as TLS servers expect (some, such as
     * kinesis-local's TLS port, close a connection that starts HTTP/2 without asking). On a plain
     * {@code http://} endpoint HTTP/2 starts with prior knowledge, the SDK's own way (ALPN needs TLS: the SDK
     * refuses it there). The region's own endpoint keeps the SDK's default. Decided by the URL the user
     * configured, never by where its host is.
     */
    static boolean negotiatesByAlpn(URI endpoint) {
        return endpoint != null && "https".equalsIgnoreCase(endpoint.getScheme());
    }

    private AttributeMap options() {
        AttributeMap.Builder options = AttributeMap.builder();
        if (trustAllCertificates) {
            options.put(SdkHttpConfigurationOption.TRUST_ALL_CERTIFICATES, true);
        }
        return options.build();
    }

    /*
     * Passed as builders, not built clients, so that closing the Kinesis client closes its HTTP client
     * too (a client passed with httpClient(...) is left open: Netty threads outlive the job).
     */
    private static final class OwnedHttpClient implements SdkHttpClient.Builder<OwnedHttpClient> {
        private final Function<AttributeMap, SdkHttpClient> build;

        OwnedHttpClient(Function<AttributeMap, SdkHttpClient> build) {
            this.build = build;
        }

        @Override
        public SdkHttpClient buildWithDefaults(AttributeMap serviceDefaults) {
            return build.apply(serviceDefaults);
        }
    }

    private static final class OwnedAsyncHttpClient implements SdkAsyncHttpClient.Builder<OwnedAsyncHttpClient> {
        private final Function<AttributeMap, SdkAsyncHttpClient> build;

        OwnedAsyncHttpClient(Function<AttributeMap, SdkAsyncHttpClient> build) {
            this.build = build;
        }

        @Override
        public SdkAsyncHttpClient buildWithDefaults(AttributeMap serviceDefaults) {
            return build.apply(serviceDefaults);
        }
    }
}
