package io.github.pyflinkkinesis.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

class AwsClientConfigTest {
    @Test
    void theReadTimeoutDefaultsToTheOfficialConnectorsSixMinutesAndIsSettable() {
        assertEquals(Duration.ofMinutes(6), AwsClientConfig.of(Map.of("aws.region", "eu-west-1")).http().readTimeout());
        assertEquals(Duration.ofMillis(90_000), AwsClientConfig.of(Map.of("aws.region", "eu-west-1",
                "aws.http-client.read-timeout", "90000")).http().readTimeout());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AwsClientConfig.of(
                Map.of("aws.region", "eu-west-1", "aws.http-client.read-timeout", "soon")));
        assertEquals("aws.http-client.read-timeout: expected a whole number > 0, got 'soon'", e.getMessage());
    }

    @Test
    void badCredentialKeysAreNamedAndSecretsNeverShown() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AwsClientConfig.of(
                Map.of("aws.region", "eu-west-1", "aws.credentials.provider", "ASSUME_ROLE")));
        assertEquals("aws.credentials.provider.role.arn is required", e.getMessage());
        String shown = AwsClientConfig.of(Map.of("aws.region", "eu-west-1",
                "aws.credentials.provider.basic.accesskeyid", "AKID",
                "aws.credentials.provider.basic.secretkey", "s3cr3t")).toString();
        assertFalse(shown.contains("s3cr3t"), shown);
        assertTrue(shown.contains("aws.credentials.provider.basic.secretkey=****"), shown);
    }

    @Test
    void alpnIsChosenByTheEndpointsSchemeNeverByWhereItsHostIs() {
        assertTrue(HttpClientSettings.negotiatesByAlpn(java.net.URI.create("https://127.0.0.1:4567")));
        assertTrue(HttpClientSettings.negotiatesByAlpn(java.net.URI.create("https://vpce-1.kinesis.eu-west-1.vpce.amazonaws.com")));
        assertFalse(HttpClientSettings.negotiatesByAlpn(java.net.URI.create("http://127.0.0.1:4568")));
        assertFalse(HttpClientSettings.negotiatesByAlpn(java.net.URI.create("http://kinesis.internal:4568")));
        assertFalse(HttpClientSettings.negotiatesByAlpn(null));
    }

    @Test
    void emulatorWorkaroundsAreAnExplicitOptInNotALoopbackGuess() {
        assertFalse(AwsClientConfig.of(Map.of("aws.region", "us-east-1", "aws.endpoint", "http://127.0.0.1:4568"))
                .emulator());
        assertTrue(AwsClientConfig.of(Map.of("aws.region", "us-east-1", "aws.endpoint", "http://kinesis.test:4568",
                "aws.emulator", "true")).emulator());
    }
}
