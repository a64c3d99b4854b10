package io.github.pyflinkkinesis.aws.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.flink.util.FlinkRuntimeException;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

class RetryRuleTest {
    private final RetryRule rule = new RetryRule(Duration.ofSeconds(10), "source.max-retry-time");

    @Test
    void backoffDoublesFromTheBaseWithEqualJitterUpToTheCap() {
        for (int trial = 0; trial < 200; trial++) {
            long first = rule.delayMillis(1);
            long fourth = rule.delayMillis(4);
            long late = rule.delayMillis(40);
            assertTrue(first >= 50 && first <= 100, "first " + first);
            assertTrue(fourth >= 400 && fourth <= 800, "fourth " + fourth);
            assertTrue(late >= RetryRule.MAX_DELAY_MS / 2 && late <= RetryRule.MAX_DELAY_MS, "late " + late);
        }
    }

    @Test
    void failuresAreRetriedUntilTheyLastLongerThanTheTotalRetryTime() {
        RetryTracker tracker = rule.tracker();
        long now = 1_000_000;
        assertTrue(tracker.onFailure(now) >= 0);
        assertTrue(tracker.onFailure(now + 10_000) >= 0, "exactly the total retry time is still retried");
        assertEquals(-1, tracker.onFailure(now + 10_001));
        String message = tracker.givingUp("GetRecords for stream 'a' shard shardId-1",
                KinesisErrorsTest.error("InternalFailure", 500, "boom"), now + 10_001);
        assertEquals("Kinesis GetRecords for stream 'a' shard shardId-1 failed for 10.0 s (3 attempts), longer than"
                + " source.max-retry-time (10 s); last error: InternalFailure (HTTP 500): boom", message);
    }

    @Test
    void aSuccessStartsANewRunAndProgressRestartsTheClock() {
        RetryTracker tracker = rule.tracker();
        tracker.onFailure(0);
        tracker.reset();
        assertEquals(0, tracker.failures());
        assertTrue(tracker.onFailure(60_000) >= 0, "the run began again at the failure after the success");
        tracker.progressed(65_000);
        assertTrue(tracker.onFailure(74_000) >= 0, "9 s since the last progress");
        assertEquals(2, tracker.failures(), "progress keeps the backoff's step");
        assertEquals(-1, tracker.onFailure(75_001));
    }

    private static AwsServiceException error(int status, String code) {
        return AwsServiceException.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("m").build()).build();
    }

    @Test
    void aCallIsTriedAgainAfterRetryableErrorsAndAFatalOneIsRethrownUnchanged() throws Exception {
        RetryRule fast = new RetryRule(1, 1, Duration.ofSeconds(10), "source.max-retry-time");
        AtomicInteger attempts = new AtomicInteger();
        String answer = fast.call("ListShards for stream 'a'", () -> {
            if (attempts.incrementAndGet() < 3) {
                throw error(400, attempts.get() == 1 ? "LimitExceededException" : "ExpiredNextTokenException");
            }
            return "ok";
        });
        assertEquals("ok", answer);
        assertEquals(3, attempts.get());
        AwsServiceException denied = error(400, "AccessDeniedException");
        assertSame(denied, assertThrows(AwsServiceException.class, () -> fast.call("x", () -> {
            throw denied;
        })));
    }

    @Test
    void aCallFailsNamingItselfOnceFailuresWentOnLongerThanTheTotalRetryTime() {
        RetryRule fast = new RetryRule(1, 1, Duration.ofMillis(30), "source.max-retry-time");
        FlinkRuntimeException error = assertThrows(FlinkRuntimeException.class, () -> fast.call(
                "DescribeStreamConsumer of 'app' on stream 'a'", () -> {
                    throw error(500, "InternalFailure");
                }));
        assertTrue(error.getMessage().startsWith("Kinesis DescribeStreamConsumer of 'app' on stream 'a' failed for "),
                error.getMessage());
        assertTrue(error.getMessage().endsWith("longer than source.max-retry-time (0.0 s); last error: "
                + "InternalFailure (HTTP 500): m"), error.getMessage());
    }
}
