package io.github.pyflinkkinesis.source;

import static io.github.pyflinkkinesis.source.KinesisErrors.Kind.EXPIRED_ITERATOR;
import static io.github.pyflinkkinesis.source.KinesisErrors.Kind.FATAL;
import static io.github.pyflinkkinesis.source.KinesisErrors.Kind.THROTTLED;
import static io.github.pyflinkkinesis.source.KinesisErrors.Kind.TRANSIENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.AccessDeniedException;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.KmsThrottlingException;
import software.amazon.awssdk.services.kinesis.model.LimitExceededException;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;

class KinesisErrorsTest {
    @Test
    void errorsAreClassified() {
        assertEquals(THROTTLED, KinesisErrors.classify(FakeKinesisClient.throttled()));
        assertEquals(THROTTLED, KinesisErrors.classify(LimitExceededException.builder().statusCode(400).build()));
        assertEquals(THROTTLED, KinesisErrors.classify(KmsThrottlingException.builder().statusCode(400).build()));
        assertEquals(TRANSIENT, KinesisErrors.classify(FakeKinesisClient.internalFailure()));
        assertEquals(TRANSIENT, KinesisErrors.classify(KinesisException.builder().statusCode(503).build()));
        assertEquals(TRANSIENT, KinesisErrors.classify(SdkClientException.create("Connection reset")));
        assertEquals(TRANSIENT, KinesisErrors.classify(ResourceInUseException.builder().statusCode(400).build()));
        assertEquals(EXPIRED_ITERATOR, KinesisErrors.classify(FakeKinesisClient.expired()));
        assertEquals(FATAL, KinesisErrors.classify(FakeKinesisClient.notFound()));
        assertEquals(FATAL, KinesisErrors.classify(AccessDeniedException.builder().statusCode(400).build()));
        assertEquals(FATAL, KinesisErrors.classify(new IllegalStateException("bug")));
    }

    @Test
    void backoffGrowsWithJitterUpToTenSeconds() {
        for (int i = 0; i < 100; i++) {
            long first = KinesisErrors.backoffMillis(1);
            long fourth = KinesisErrors.backoffMillis(4);
            long late = KinesisErrors.backoffMillis(40);
            assertTrue(first >= 50 && first <= 100, "first " + first);
            assertTrue(fourth >= 400 && fourth <= 800, "fourth " + fourth);
            assertTrue(late >= 5000 && late <= 10_000, "late " + late);
        }
    }

    @Test
    void descriptionsNameTheErrorCode() {
        String description = KinesisErrors.describe(KinesisException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("AccessDeniedException").errorMessage("no").build())
                .build());
        assertEquals("AccessDeniedException (HTTP 400): no", description);
    }
}
