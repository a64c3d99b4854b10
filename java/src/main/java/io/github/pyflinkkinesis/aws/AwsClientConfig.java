package io.github.pyflinkkinesis.aws;

import java.io.Serializable;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.ProtocolNegotiation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpConfigurationOption;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.utils.AttributeMap;

/**
 * The AWS side of the connector's configuration: the official connector's {@code aws.*} keys, as
 * pyflink-kinesis' {@code source_properties()} / {@code sink_properties()} write them, turned into
 * Kinesis clients.
 *
 * <p>Immutable and serializable so that sources and sinks carry it to the task managers and build
 * clients there. Secrets never appear in {@link #toString()} or in error messages.
 */
public final class AwsClientConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String REGION = "aws.region";
    public static final String ENDPOINT = "aws.endpoint";
    public static final String PROVIDER = "aws.credentials.provider";
    public static final String TRUST_ALL = "aws.trust.all.certificates";
    public static final String PROTOCOL = "aws.http.protocol.version";
    public static final String MAX_CONCURRENCY = "aws.http-client.max-concurrency";
    public static final String READ_TIMEOUT = "aws.http-client.read-timeout";
    /** Subscriptions one enhanced fan-out reader may hold at once by default: one per shard it reads. */
    public static final int SUBSCRIPTIONS_MAX_CONCURRENCY = 10_000;

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
        config.provider(PROVIDER);
        config.positiveInt(MAX_CONCURRENCY);
        config.positiveInt(READ_TIMEOUT);
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

    /** True when the endpoint is on this machine (127.0.0.0/8, ::1, localhost). */
    public boolean isLoopbackEndpoint() {
        URI uri = endpoint();
        if (uri == null) {
            return false;
        }
        try {
            return InetAddress.getByName(uri.getHost()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** A blocking client (Apache HTTP, HTTP/1.1); the SDK's own retries are off: callers retry. */
    public KinesisClient createSyncClient() {
        disableCborForCustomEndpoints();
        ApacheHttpClient.Builder http = ApacheHttpClient.builder();
        Integer maxConcurrency = positiveInt(MAX_CONCURRENCY);
        if (maxConcurrency != null) {
            http.maxConnections(maxConcurrency);
        }
        Integer readTimeout = positiveInt(READ_TIMEOUT);
        if (readTimeout != null) {
            http.socketTimeout(Duration.ofMillis(readTimeout));
        }
        AttributeMap options = httpOptions();
        return withAwsSettings(KinesisClient.builder()
                .httpClientBuilder(new OwnedHttpClient(defaults -> http.buildWithDefaults(options.merge(defaults)))));
    }

    /** A non-blocking client (Netty); the SDK's own retries are off: callers retry. */
    public KinesisAsyncClient createAsyncClient() {
        boolean http1 = "HTTP1_1".equalsIgnoreCase(properties.getOrDefault(PROTOCOL, "HTTP2"));
        return createAsyncClient(http1, !http1 && isLoopbackEndpoint(), null);
    }

    /**
     * A non-blocking client for SubscribeToShard (enhanced fan-out): always HTTP/2, the only protocol
     * Kinesis serves subscriptions on, whatever {@code aws.http.protocol.version} says; unless
     * {@code aws.http-client.max-concurrency} says otherwise, up to {@link #SUBSCRIPTIONS_MAX_CONCURRENCY}
     * subscriptions at once (each holds an HTTP/2 stream for up to 5 minutes).
     */
    public KinesisAsyncClient createSubscriptionClient() {
        return createAsyncClient(false, isLoopbackEndpoint(), SUBSCRIPTIONS_MAX_CONCURRENCY);
    }

    /*
     * alpn: negotiate HTTP/2 by ALPN. The SDK assumes HTTP/2 on a TLS connection to Kinesis without
     * asking; the local emulator (kinesis-local, a Node HTTP/2 server that also serves HTTP/1.1 on its
     * TLS port) speaks HTTP/2 only when ALPN asks for it and closes the connection otherwise. So for a
     * loopback endpoint only, ALPN is used; real endpoints keep the SDK's default.
     */
    private KinesisAsyncClient createAsyncClient(boolean http1, boolean alpn, Integer defaultMaxConcurrency) {
        disableCborForCustomEndpoints();
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder();
        Integer maxConcurrency = positiveInt(MAX_CONCURRENCY);
        if (maxConcurrency != null || defaultMaxConcurrency != null) {
            http.maxConcurrency(maxConcurrency != null ? maxConcurrency : defaultMaxConcurrency);
        }
        Integer readTimeout = positiveInt(READ_TIMEOUT);
        if (readTimeout != null) {
            http.readTimeout(Duration.ofMillis(readTimeout));
        }
        http.protocol(http1 ? Protocol.HTTP1_1 : Protocol.HTTP2);
        if (alpn) {
            http.protocolNegotiation(ProtocolNegotiation.ALPN);
        }
        AttributeMap options = httpOptions();
        return withAwsSettings(KinesisAsyncClient.builder()
                .httpClientBuilder(new OwnedAsyncHttpClient(defaults -> http.buildWithDefaults(options.merge(defaults)))));
    }

    /** Region, credentials, no SDK retries and the custom endpoint, the same for both kinds of client. */
    private <B extends AwsClientBuilder<B, C>, C> C withAwsSettings(B builder) {
        builder.region(region())
                .credentialsProvider(credentialsProvider(PROVIDER))
                .overrideConfiguration(noSdkRetries());
        URI endpoint = endpoint();
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }

    private AttributeMap httpOptions() {
        AttributeMap.Builder options = AttributeMap.builder();
        if (trustAllCertificates()) {
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

    private static ClientOverrideConfiguration noSdkRetries() {
        return ClientOverrideConfiguration.builder().retryPolicy(RetryPolicy.none()).build();
    }

    private boolean trustAllCertificates() {
        return Boolean.parseBoolean(properties.getOrDefault(TRUST_ALL, "false"));
    }

    /** Emulators answer JSON; the SDK's CBOR default is only for the service. Must run before the first client. */
    private void disableCborForCustomEndpoints() {
        if (endpoint() != null && System.getProperty("aws.cborEnabled") == null) {
            System.setProperty("aws.cborEnabled", "false");
        }
    }

    private Integer positiveInt(String key) {
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

    private String provider(String prefix) {
        String kind = properties.get(prefix);
        if (kind == null) {
            kind = properties.containsKey(prefix + ".basic.accesskeyid") ? "BASIC" : "AUTO";
        }
        kind = kind.toUpperCase(Locale.ROOT);
        switch (kind) {
            case "AUTO":
            case "ENV_VAR":
            case "SYS_PROP":
                return kind;
            case "BASIC":
                require(prefix + ".basic.accesskeyid");
                require(prefix + ".basic.secretkey");
                return kind;
            case "PROFILE":
                return kind;
            case "ASSUME_ROLE":
                require(prefix + ".role.arn");
                provider(prefix + ".role.provider");
                return kind;
            case "WEB_IDENTITY_TOKEN":
                return kind;
            default:
                throw new IllegalArgumentException(prefix + ": expected AUTO, BASIC, ENV_VAR, SYS_PROP, PROFILE, "
                        + "ASSUME_ROLE or WEB_IDENTITY_TOKEN, got '" + kind + "'");
        }
    }

    private String require(String key) {
        String value = properties.get(key);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(key + " is required");
        }
        return value;
    }

    private AwsCredentialsProvider credentialsProvider(String prefix) {
        switch (provider(prefix)) {
            case "ENV_VAR":
                return EnvironmentVariableCredentialsProvider.create();
            case "SYS_PROP":
                return SystemPropertyCredentialsProvider.create();
            case "BASIC":
                return StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        require(prefix + ".basic.accesskeyid"), require(prefix + ".basic.secretkey")));
            case "PROFILE": {
                ProfileCredentialsProvider.Builder profile = ProfileCredentialsProvider.builder()
                        .profileName(properties.getOrDefault(prefix + ".profile.name", "default"));
                String path = properties.get(prefix + ".profile.path");
                if (path != null) {
                    profile.profileFile(ProfileFile.builder()
                            .content(Paths.get(path)).type(ProfileFile.Type.CREDENTIALS).build());
                }
                return profile.build();
            }
            case "ASSUME_ROLE": {
                StsClient sts = StsClient.builder()
                        .region(region())
                        .credentialsProvider(credentialsProvider(prefix + ".role.provider"))
                        .build();
                return StsAssumeRoleCredentialsProvider.builder()
                        .stsClient(sts)
                        .refreshRequest(r -> {
                            r.roleArn(require(prefix + ".role.arn"))
                                    .roleSessionName(properties.getOrDefault(prefix + ".role.sessionName", "pyflink-kinesis"));
                            String externalId = properties.get(prefix + ".role.externalId");
                            if (externalId != null) {
                                r.externalId(externalId);
                            }
                        })
                        .build();
            }
            case "WEB_IDENTITY_TOKEN": {
                WebIdentityTokenFileCredentialsProvider.Builder web = WebIdentityTokenFileCredentialsProvider.builder();
                String arn = properties.get(prefix + ".role.arn");
                if (arn != null) {
                    web.roleArn(arn);
                }
                String file = properties.get(prefix + ".webIdentityToken.file");
                if (file != null) {
                    web.webIdentityTokenFile(Paths.get(file));
                }
                String session = properties.get(prefix + ".role.sessionName");
                if (session != null) {
                    web.roleSessionName(session);
                }
                return web.build();
            }
            default:
                return DefaultCredentialsProvider.builder().build();
        }
    }

    /** The keys, with every secret shown as {@code ****}. */
    @Override
    public String toString() {
        Map<String, String> shown = new java.util.TreeMap<>();
        properties.forEach((k, v) -> shown.put(k, isSecretKey(k) ? "****" : v));
        return "AwsClientConfig" + shown;
    }

    /** True for keys whose values must never be shown (as pyflink_kinesis.properties.is_secret_key). */
    public static boolean isSecretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return k.contains("secretkey") || k.contains("secret") || k.contains("sessiontoken") || k.contains("password");
    }
}
