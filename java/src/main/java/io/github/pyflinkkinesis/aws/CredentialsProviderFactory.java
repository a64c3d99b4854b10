package io.github.pyflinkkinesis.aws;

import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;

/**
 * The credentials provider the official connector's {@code aws.credentials.provider} keys describe:
 * AUTO, BASIC, ENV_VAR, SYS_PROP, PROFILE, ASSUME_ROLE (with a nested provider) or WEB_IDENTITY_TOKEN.
 */
final class CredentialsProviderFactory {
    static final String PROVIDER = "aws.credentials.provider";

    private final Map<String, String> properties;

    CredentialsProviderFactory(Map<String, String> properties) {
        this.properties = properties;
    }

    /** Checks the provider keys (and a role's nested provider); returns the provider kind. */
    String validate(String prefix) {
        String kind = properties.get(prefix);
        if (kind == null) {
            kind = properties.containsKey(prefix + ".basic.accesskeyid") ? "BASIC" : "AUTO";
        }
        kind = kind.toUpperCase(Locale.ROOT);
        switch (kind) {
            case "AUTO":
            case "ENV_VAR":
            case "SYS_PROP":
            case "PROFILE":
            case "WEB_IDENTITY_TOKEN":
                return kind;
            case "BASIC":
                require(prefix + ".basic.accesskeyid");
                require(prefix + ".basic.secretkey");
                return kind;
            case "ASSUME_ROLE":
                require(prefix + ".role.arn");
                validate(prefix + ".role.provider");
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

    /** The provider the keys under {@code prefix} describe; an assumed role calls STS in {@code region}. */
    AwsCredentialsProvider create(String prefix, Region region) {
        switch (validate(prefix)) {
            case "ENV_VAR":
                return EnvironmentVariableCredentialsProvider.create();
            case "SYS_PROP":
                return SystemPropertyCredentialsProvider.create();
            case "BASIC":
                return StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        require(prefix + ".basic.accesskeyid"), require(prefix + ".basic.secretkey")));
            case "PROFILE":
                return profile(prefix);
            case "ASSUME_ROLE":
                return assumeRole(prefix, region);
            case "WEB_IDENTITY_TOKEN":
                return webIdentity(prefix);
            default:
                return DefaultCredentialsProvider.builder().build();
        }
    }

    private AwsCredentialsProvider profile(String prefix) {
        ProfileCredentialsProvider.Builder profile = ProfileCredentialsProvider.builder()
                .profileName(properties.getOrDefault(prefix + ".profile.name", "default"));
        String path = properties.get(prefix + ".profile.path");
        if (path != null) {
            profile.profileFile(ProfileFile.builder().content(Paths.get(path)).type(ProfileFile.Type.CREDENTIALS).build());
        }
        return profile.build();
    }

    private AwsCredentialsProvider assumeRole(String prefix, Region region) {
        StsClient sts = StsClient.builder()
                .region(region)
                .credentialsProvider(create(prefix + ".role.provider", region))
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

    private AwsCredentialsProvider webIdentity(String prefix) {
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
}
