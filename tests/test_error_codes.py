"""The one list of Kinesis error codes (pyflink_kinesis/spec/error_codes.txt) and the Beam transforms' classifier.

Every line of the file is checked against :func:`beam_transforms.retry.classify` (whole calls) and
:func:`beam_transforms.retry.is_retryable_entry` (PutRecords entries): kind and scope. The errors are built
as botocore builds them from an answer (no network); the Java connector reads the same file in its own test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("botocore")

from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError  # noqa: E402

from beam_transforms import retry  # noqa: E402
from pyflink_kinesis.spec import error_codes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _lines():
    """(code, kind, scopes) of every code line of the file, read here without the module's parser."""
    out = []
    for line in (ROOT / "pyflink_kinesis" / "spec" / "error_codes.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            code, kind, scopes = line.split()
            out.append((code, kind, set(scopes.split(","))))
    return out


def _answer(code: str, status: int = 400, message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "AnyOperation")


def test_the_file_lists_codes_of_every_kind() -> None:
    lines = _lines()
    assert len(lines) >= 20
    assert {kind for _, kind, _ in lines} == set(error_codes.KINDS)
    assert error_codes.error_codes() == {code: error_codes.ErrorCode(code, kind, frozenset(scopes))
                                         for code, kind, scopes in lines}


@pytest.mark.parametrize("code, kind, scopes", _lines(), ids=[line[0] for line in _lines()])
def test_the_classifier_follows_each_line(code: str, kind: str, scopes: set) -> None:
    retryable = kind in ("throttled", "transient")
    if "call" in scopes:
        assert retry.classify(_answer(code)) == kind
        assert retry.is_retryable(_answer(code)) is retryable
        assert retry.is_rejected(_answer(code)) is (kind == "rejected")
        assert retry.is_expired_iterator(_answer(code)) is (kind == "expired-iterator")
    else:
        assert retry.classify(_answer(code)) is None
    assert retry.is_retryable_entry(code) is (retryable and "entry" in scopes)


def test_codes_not_listed() -> None:
    assert retry.classify(_answer("AccessDeniedException")) is None
    assert retry.classify(_answer("SomethingNew", status=503)) == "transient"  # any 5xx answer
    assert retry.classify(EndpointConnectionError(endpoint_url="http://127.0.0.1:9")) == "transient"
    assert retry.classify(ParamValidationError(report="bad")) == "rejected"
    assert not retry.is_retryable_entry("KMSAccessDeniedException")
    assert retry.error_code(ClientError({"ResponseMetadata": {"HTTPStatusCode": 502}}, "GetRecords")) == "HTTP 502"
    assert retry.error_code(EndpointConnectionError(endpoint_url="x")) == "EndpointConnectionError"


@pytest.mark.parametrize("message", [
    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
    "timestampInMillis: 1900000000000, currentTimestampInMillis: 1800000000000",  # the service, kinesalite
    "Timestamp cannot be in the future",  # kinesis-local
    "",
])
def test_a_refused_timestamp_is_known_by_code_and_request_not_by_words(message: str) -> None:
    refused = _answer("InvalidArgumentException", message=message)
    assert retry.timestamp_refused(refused, "AT_TIMESTAMP")
    assert not retry.timestamp_refused(refused, "LATEST")
    assert not retry.timestamp_refused(refused, "AFTER_SEQUENCE_NUMBER")
    assert not retry.timestamp_refused(_answer("ValidationException", message=message), "AT_TIMESTAMP")


@pytest.mark.parametrize("text, error", [
    ("Throttled throttled", "expected 'code kind scope'"),
    ("X sometimes call", "kind 'sometimes' of X"),
    ("X throttled shard", "scope 'shard' of X"),
    ("X throttled call\nX transient call", "X is listed twice"),
])
def test_a_malformed_file_fails_naming_the_line(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=f"codes.txt:\\d+: {error}"):
        error_codes.parse(text, "codes.txt")


def test_the_list_is_read_without_an_aws_sdk() -> None:
    code = ("import sys; from pyflink_kinesis.spec.error_codes import kind_of; "
            "assert kind_of('ThrottlingException') == 'throttled'; "
            "assert not {'boto3', 'botocore'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
