"""Reading SubscribeToShard from a local emulator: botocore's event-stream parser, adapted where the user
declared the endpoint an emulator (``aws.emulator`` = true; :class:`LocalKinesis` does), never by its address.

botocore reads the first message of an event stream as the ``initial-response`` and fails ("First event
was not of type initial-response") when it is not. Kinesis sends one; the local emulator (kinesis-local
0.6.2) starts with the first SubscribeToShardEvent.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Dict, List

_LOG = logging.getLogger(__name__)


def tolerate_missing_initial_response(client: Any) -> bool:
    """Let a client of a *local emulator* read SubscribeToShard; True if it was changed.

    Why: botocore reads the first message of an event stream as the ``initial-response`` and fails
    ("First event was not of type initial-response") when it is not. Kinesis sends one; the local
    emulator (kinesis-local 0.6.2) starts with the first SubscribeToShardEvent. The client's JSON
    response parser (a private attribute of botocore's endpoint) is replaced by one that puts such a
    first event back in front of the stream. Called only for a spec that declares ``aws.emulator``:
    other clients are left exactly as boto3 made them.
    """
    endpoint = getattr(client, "_endpoint", None)
    if endpoint is None or not hasattr(endpoint, "_response_parser_factory"):
        _LOG.warning("cannot adapt the local endpoint's SubscribeToShard parsing (botocore changed?)")
        return False
    factory = _emulator_parser_factory()
    if not isinstance(endpoint._response_parser_factory, factory):
        endpoint._response_parser_factory = factory()
    return True


_FACTORY: List[type] = []


def _emulator_parser_factory() -> type:
    """A botocore ResponseParserFactory whose JSON parser accepts a missing ``initial-response`` (built once)."""
    if _FACTORY:
        return _FACTORY[0]
    from botocore import parsers

    class EmulatorJSONParser(parsers.JSONParser):
        """botocore's JSON parser, but an event stream may lack its ``initial-response`` message."""

        def _handle_event_stream(self, response: Any, shape: Any, event_name: str) -> Dict[str, Any]:
            event_stream = self._create_event_stream(response, shape.members[event_name])
            raw_events = event_stream._event_generator
            first = next(raw_events, None)
            if first is not None and first.headers.get(":event-type") == "initial-response":
                parsed = self._handle_json_body(first.payload, shape)
            else:
                parsed = {}
                if first is not None:
                    event_stream._event_generator = itertools.chain([first], raw_events)
            parsed[event_name] = event_stream
            return parsed

    class Factory(parsers.ResponseParserFactory):
        def create_parser(self, protocol_name: str) -> Any:
            if protocol_name == "json":
                return EmulatorJSONParser()
            return super().create_parser(protocol_name)

    _FACTORY.append(Factory)
    return Factory
