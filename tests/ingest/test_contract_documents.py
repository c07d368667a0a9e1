"""The contract documents are complete: servers, security, and examples that the contract's own decoder accepts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.contract import REJECT_REASON_FIXES, EventType, RejectReason, decode
from ingest.contract.documented import EXAMPLE_NOW
from ingest.contract.feedback import DeadLetterFeedback
from ingest.contract.schema_export import asyncapi, render, schema_name, sources_for

_SKEW = timedelta(seconds=300)


def _topic(event_type: EventType) -> str:
    return f"ioc/v1/{sources_for(event_type)[0].value}/counter-gn-01/{event_type.value}"


def _asyncapi_examples() -> list[tuple[str, Any]]:
    messages = asyncapi()["components"]["messages"]
    return [(name, example["payload"]) for name, message in messages.items() for example in message["examples"]]


@pytest.mark.parametrize(("name", "payload"), _asyncapi_examples(), ids=lambda value: str(value)[:20])
def test_every_asyncapi_example_is_accepted_by_the_decoder(name: str, payload: Any) -> None:
    if name == "feedback":
        assert DeadLetterFeedback.model_validate_json(json.dumps(payload)).reason is RejectReason.AREA_NOT_ALLOWED
        return
    event_type = EventType(name)

    decoded = decode(_topic(event_type), json.dumps(payload).encode(), now=EXAMPLE_NOW, max_future_skew=_SKEW)

    assert decoded.topic.event_type is event_type


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_json_schema_carries_an_example_the_decoder_accepts(event_type: EventType) -> None:
    schema = json.loads(render()[f"schemas/{schema_name(event_type)}.json"])

    (example,) = schema["examples"]
    decoded = decode(_topic(event_type), json.dumps(example).encode(), now=EXAMPLE_NOW, max_future_skew=_SKEW)

    assert decoded.event.model_dump(mode="json", exclude_none=True).keys() == example.keys()
    assert set(example) >= set(schema["required"])


def test_servers_are_mqtt_5_plain_and_tls_with_password_security() -> None:
    document = asyncapi()
    servers = document["servers"]

    assert {(s["protocol"], s["protocolVersion"], s["host"]) for s in servers.values()} == {
        ("secure-mqtt", "5", "{broker_host}:8883"),
        ("mqtt", "5", "{broker_host}:1883"),
    }
    schemes = document["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"userPassword"}
    for server in servers.values():
        assert server["security"] == [{"$ref": "#/components/securitySchemes/userPassword"}]


def test_area_code_is_described_with_villages_and_the_sample_example_is_a_village() -> None:
    schema = json.loads(render()["schemas/coverage.sample.json"])

    assert "village" in schema["properties"]["area_code"]["description"]
    assert schema["examples"][0]["area_code"] == "24615-01"


def test_the_feedback_channel_is_outside_the_event_tree() -> None:
    channel = asyncapi()["channels"]["feedback"]

    assert channel["address"] == "ioc/feedback/v1/{publisher_id}"
    assert not channel["address"].startswith("ioc/v1/")


def test_the_contract_page_gives_every_reason_with_its_fix() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in page.splitlines() if line.startswith("| `")}

    for reason in RejectReason:
        assert reason.value in rows, reason
        assert rows[reason.value].endswith(f" {REJECT_REASON_FIXES[reason]} |"), reason
