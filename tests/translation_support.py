"""Helpers of the translation tests: specs with a few settings, and an STS answered by botocore's Stubber."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from pyflink_kinesis import AwsRegion, KinesisEgressBuilder, KinesisEgressSpec, KinesisIngressBuilder, KinesisIngressSpec

from tests.yaml_support import ROLE

P = "aws.credentials.provider"


def _build(builder: Any, kw: dict[str, Any], setters: dict[str, str]) -> Any:
    """``builder`` with the region (default us-west-1), each of ``setters``' keywords given in ``kw`` and ``props``."""
    builder.with_aws_region(kw.pop("region", AwsRegion.of("us-west-1")))
    for name, setter in setters.items():
        if name in kw:
            getattr(builder, setter)(kw.pop(name))
    builder.with_client_configuration_properties(kw.pop("props", {}))
    assert not kw
    return builder.build()


def ingress(**kw: Any) -> KinesisIngressSpec:
    """An ingress of stream ``s``; keywords: region, credentials, position, props."""
    return _build(KinesisIngressBuilder.for_identifier("ex/in").with_stream("s"), kw,
                  {"credentials": "with_aws_credentials", "position": "with_startup_position"})


def egress(**kw: Any) -> KinesisEgressSpec:
    """An egress; keywords: region, credentials, limit (max outstanding records), props."""
    return _build(KinesisEgressBuilder.for_identifier("ex/out"), kw,
                  {"credentials": "with_aws_credentials", "limit": "with_max_outstanding_records"})


class StsStub:
    """Intercepts every STS client botocore creates, answers from a queue, and records how it was made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.responses: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.created: list[dict[str, Any]] = []
        self.stubbers: list[Stubber] = []
        original = botocore.session.Session.create_client

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            if service_name == "sts":
                self.created.append({"region": client.meta.region_name, **kwargs})
                stubber = Stubber(client)
                for operation, response, expected in self.responses:
                    stubber.add_response(operation, response, expected)
                stubber.activate()
                self.stubbers.append(stubber)
            return client

        monkeypatch.setattr(botocore.session.Session, "create_client", create_client)

    @staticmethod
    def credentials(access_key: str) -> dict[str, Any]:
        return {
            "Credentials": {
                "AccessKeyId": access_key,
                "SecretAccessKey": "role-secret",
                "SessionToken": "role-token",
                "Expiration": datetime.now(timezone.utc) + timedelta(hours=1),
            },
            "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:reader", "Arn": ROLE.replace(":role/", ":assumed-role/")},
        }
