package io.github.pyflinkkinesis.aws;

import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * The AWS side of the connector's configuration: the official connector's {@code aws.*} keys, as
 * pyflink-kinesis' {@code source_properties()} / {@code sink_properties()} write them, turned into
 * Kinesis clients (credentials: {@link CredentialsProviderFactory}; HTTP: {@link HttpClientSettings}).
 *
 * <p>Immutable and serializable so that sources and sinks carry it to the task managers and build
 * clients there. Secrets never appear in {@link #toString()} or in error messages.
 */
public final class AwsClientConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String REGION = "aws.region";
    public static final String ENDPOINT = "aws.endpoint";
    /** The endpoint is a local emulator (kinesis-local): an explicit opt-in, see {@link #emulator()}. */
    public static final String EMULATOR = "aws.emulator";
    public static final String PROVIDER = CredentialsProviderFactory.PROVIDER;
    public static final String TRUST_ALL = HttpClientSettings.TRUST_ALL;
    public static final String PROTOCOL = HttpClientSettings.PROTOCOL;
    public static final String MAX_CONCURRENCY = HttpClientSettings.MAX_CONCURRENCY;
    public static final String READ_TIMEOUT = HttpClientSettings.READ_TIMEOUT;
    /** The official connector's default: a slow answer is waited for, not resent (no duplicates). */
    public static final Duration DEFAULT_READ_TIMEOUT = HttpClientSettings.DEFAULT_READ_TIMEOUT;
    /** Subscriptions one enhanced fan-out reader may hold at once by default: one per shard it reads. */
    public static final int SUBSCRIPTIONS_MAX_CONCURRENCY = HttpClientSettings.SUBSCRIPTIONS_MAX_CONCURRENCY;

    private final Map<String, String> properties;

    private AwsClientConfig(Map<String, String> properties) {
        this.properties = Collections.unmodifiableMap(new HashMap<>(properties));
    }

    /** Reads and validates the {@code aws.*} keys of {@code properties}; other keys are ignored here. */
    public static AwsClientConfig of(Map<String, String> properties) {
        Objects.requireNonNull(properties, "properties");
        AwsClientConfig config = new AwsClientConfig(properties);
        config.region();
        config.endpoint();
        config.credentials().validate(PROVIDER);
        config.http();
        return config;
    }

    /** The raw property value, or {@code null}. */
    public String get(String key) {
        return properties.get(key);
    }

    public Region region() {
        String region = properties.get(REGION);
        if (region == null || region.isEmpty()) {
            throw new IllegalArgumentException(REGION + " is required");
        }
        return Region.of(region);
    }

    /** The custom endpoint, or {@code null} for the region's own. */
    public URI endpoint() {
        String endpoint = properties.get(ENDPOINT);
        if (endpoint == null || endpoint.isEmpty()) {
            return null;
        }
        URI uri = URI.create(endpoint);
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw new IllegalArgumentException(
                    ENDPOINT + ": expected a URL such as https://host:port, got '" + endpoint + "'");
        }
        return uri;
    }

    /**
     * True when the user declared the endpoint a local Kinesis emulator ({@value #EMULATOR} = true): the
     * workarounds for what kinesis-local lacks are switched on by this key only, never by the endpoint's address.
     */
    public boolean emulator() {
        return Boolean.parseBoolean(properties.getOrDefault(EMULATOR, "false"));
    }

    /** The HTTP clients' settings (read timeout, connections, protocol, certificates). */
    public HttpClientSettings http() {
        return new HttpClientSettings(properties);
    }

    private CredentialsProviderFactory credentials() {
        return new CredentialsProviderFactory(properties);
    }

    /** A blocking client (Apache HTTP, HTTP/1.1); the SDK's own retries are off: callers retry. */
    public KinesisClient createSyncClient() {
        disableCborForCustomEndpoints();
        return withAwsSettings(KinesisClient.builder().httpClientBuilder(http().apache()));
    }

    /** A non-blocking client (Netty); the SDK's own retries are off: callers retry. */
    public KinesisAsyncClient createAsyncClient() {
        return createAsyncClient(false, null);
    }

    /**
     * A non-blocking client for SubscribeToShard (enhanced fan-out): always HTTP/2, the only protocol
     * Kinesis serves subscriptions on, whatever {@code aws.http.protocol.version} says; unless
     * {@code aws.http-client.max-concurrency} says otherwise, up to {@link #SUBSCRIPTIONS_MAX_CONCURRENCY}
     * subscriptions at once (each holds an HTTP/2 stream for up to 5 minutes).
     */
    public KinesisAsyncClient createSubscriptionClient() {
        return createAsyncClient(true, SUBSCRIPTIONS_MAX_CONCURRENCY);
    }

    private KinesisAsyncClient createAsyncClient(boolean http2Only, Integer defaultMaxConcurrency) {
        disableCborForCustomEndpoints();
        return withAwsSettings(KinesisAsyncClient.builder()
                .httpClientBuilder(http().netty(http2Only, endpoint(), defaultMaxConcurrency)));
    }

    /** Region, credentials, no SDK retries and the custom endpoint, the same for both kinds of client. */
    private <B extends AwsClientBuilder<B, C>, C> C withAwsSettings(B builder) {
        builder.region(region())
                .credentialsProvider(credentials().create(PROVIDER, region()))
                .overrideConfiguration(ClientOverrideConfiguration.builder().retryPolicy(RetryPolicy.none()).build());
        URI endpoint = endpoint();
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }

    /** Emulators answer JSON; the SDK's CBOR default is only for the service. Must run before the first client. */
    private void disableCborForCustomEndpoints() {
        if (endpoint() != null && System.getProperty("aws.cborEnabled") == null) {
            System.setProperty("aws.cborEnabled", "false");
        }
    }

    /** The keys, with every secret shown as {@code ****}. */
    @Override
    public String toString() {
        return "AwsClientConfig" + SecretKeys.masked(properties);
    }
}
