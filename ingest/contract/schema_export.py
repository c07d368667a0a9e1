"""Publish contract v1 as JSON Schema files and an AsyncAPI 3.0.0 document.

The documents are generated from the models so they cannot disagree with
decode(); CI runs `--check` to catch a model change without regenerated docs.

    python -m ingest.contract.schema_export --write docs/contract
    python -m ingest.contract.schema_export --check docs/contract
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ingest.contract.documented import documented_example, feedback_example, security_schemes, servers
from ingest.contract.errors import (
    MAX_JSON_DEPTH,
    MAX_PAYLOAD_BYTES,
    REJECT_REASON_DESCRIPTIONS,
    REJECT_REASON_FIXES,
)
from ingest.contract.events import EVENT_MODELS
from ingest.contract.feedback import FEEDBACK_TOPIC_TEMPLATE, DeadLetterFeedback, feedback_topic
from ingest.contract.topics import (
    PUBLISHER_ID_PATTERN,
    TOPIC_TEMPLATE,
    EventType,
    Source,
)
from ingest.contract.topics import sources_of as sources_for

ASYNCAPI_FILE: Final = "asyncapi.json"
SCHEMA_DIR: Final = "schemas"
CONTRACT_VERSION: Final = "1.0.0"
_CHANNEL: Final = "inbound"
_FEEDBACK: Final = "feedback"
_MQTT_BINDING_VERSION: Final = "0.2.0"
_JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

_SUMMARIES: Final[Mapping[EventType, str]] = {
    EventType.DOSSIER: "A dossier changed state in the public-service portal.",
    EventType.TRANSACTION: "A payment was made to or through a public service.",
    EventType.SAMPLE: "A network coverage and quality measurement.",
    EventType.STATUS: "Publisher liveness; set retained and as the MQTT last will. No envelope.",
}


def schema_name(event_type: EventType) -> str:
    """File stem: `{source}.{event_type}`, or just the event type when every source may send it."""
    sources = sources_for(event_type)
    if len(sources) == 1:
        return f"{sources[0].value}.{event_type.value}"
    return event_type.value


def json_schema(event_type: EventType) -> dict[str, Any]:
    name = schema_name(event_type)
    schema = EVENT_MODELS[event_type].model_json_schema()
    schema["$schema"] = _JSON_SCHEMA_DIALECT
    schema["$id"] = f"urn:daknong-ioc:contract:v1:{name}"
    schema["title"] = f"ioc.v1.{name}"
    schema["description"] = (
        f"{_SUMMARIES[event_type]} Topic: {_topic_for(event_type)}. "
        f"At most {MAX_PAYLOAD_BYTES} bytes of UTF-8 JSON; no NUL characters; numbers must be finite; "
        "date-times are RFC 3339 with an offset."
    )
    schema["examples"] = [documented_example(event_type)]
    return schema


def feedback_schema() -> dict[str, Any]:
    schema = DeadLetterFeedback.model_json_schema()
    schema["$schema"] = _JSON_SCHEMA_DIALECT
    schema["$id"] = "urn:daknong-ioc:contract:v1:feedback"
    schema["title"] = "ioc.feedback.v1"
    schema["description"] = (
        f"Sent by the system on {FEEDBACK_TOPIC_TEMPLATE}, QoS 1, not retained: one message per dead letter of "
        "the publisher's own, within a second. Only that publisher may subscribe; nobody but the ingest may publish."
    )
    schema["examples"] = [feedback_example()]
    return schema


def asyncapi() -> dict[str, Any]:
    messages = {event_type.value: _message(event_type) for event_type in EventType}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Đắk Nông IOC inbound events",
            "version": CONTRACT_VERSION,
            "description": _info_description(),
        },
        "defaultContentType": "application/json",
        "servers": servers(),
        "channels": {
            _CHANNEL: {
                "address": TOPIC_TEMPLATE,
                "title": "Inbound events from registered publishers",
                "parameters": _parameters(),
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            },
            _FEEDBACK: {
                "address": FEEDBACK_TOPIC_TEMPLATE,
                "title": "Each publisher's own dead letters, for it alone to read",
                "parameters": {"publisher_id": _parameters()["publisher_id"]},
                "messages": {_FEEDBACK: {"$ref": f"#/components/messages/{_FEEDBACK}"}},
            },
        },
        "operations": {
            **{f"receive_{event_type.value}": _operation(event_type) for event_type in EventType},
            f"send_{_FEEDBACK}": _feedback_operation(),
        },
        "components": {
            "messages": {**messages, _FEEDBACK: _feedback_message()},
            "securitySchemes": security_schemes(),
        },
        "x-max-payload-bytes": MAX_PAYLOAD_BYTES,
        "x-max-json-depth": MAX_JSON_DEPTH,
        "x-dead-letter-reasons": {
            reason.value: {"meaning": text, "fix": REJECT_REASON_FIXES[reason]}
            for reason, text in REJECT_REASON_DESCRIPTIONS.items()
        },
    }


def _topic_for(event_type: EventType) -> str:
    sources = sources_for(event_type)
    source = sources[0].value if len(sources) == 1 else "{source}"
    return f"ioc/v1/{source}/{{publisher_id}}/{event_type.value}"


def _parameters() -> dict[str, Any]:
    return {
        "source": {"enum": [source.value for source in Source], "description": "Kind of publisher."},
        "publisher_id": {
            "description": (
                f"Registered publisher id matching {PUBLISHER_ID_PATTERN}; "
                "it must equal the MQTT username (enforced by the broker ACL)."
            )
        },
        "event_type": {
            "enum": [event_type.value for event_type in EventType],
            "description": "; ".join(
                f"{event_type.value} under {', '.join(sources_for(event_type))}" for event_type in EventType
            ),
        },
    }


def _message(event_type: EventType) -> dict[str, Any]:
    status = event_type is EventType.STATUS
    return {
        "name": event_type.value,
        "title": f"ioc.v1.{schema_name(event_type)}",
        "summary": _SUMMARIES[event_type],
        "contentType": "application/json",
        "payload": {"$ref": f"./{SCHEMA_DIR}/{schema_name(event_type)}.json"},
        "bindings": {"mqtt": {"bindingVersion": _MQTT_BINDING_VERSION, "payloadFormatIndicator": 1}},
        "examples": [{"name": f"{schema_name(event_type)}-example", "payload": documented_example(event_type)}],
        "x-topic": _topic_for(event_type),
        "x-retained": status,
        "x-last-will": status,
    }


def _feedback_message() -> dict[str, Any]:
    return {
        "name": _FEEDBACK,
        "title": "ioc.feedback.v1",
        "summary": "One of the publisher's messages became a dead letter: its event id, reason code and detail.",
        "contentType": "application/json",
        "payload": {"$ref": f"./{SCHEMA_DIR}/{_FEEDBACK}.json"},
        "examples": [{"name": "area-not-allowed", "payload": feedback_example()}],
        "x-topic": feedback_topic("{publisher_id}"),
        "x-retained": False,
    }


def _feedback_operation() -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{_FEEDBACK}"},
        "messages": [{"$ref": f"#/channels/{_FEEDBACK}/messages/{_FEEDBACK}"}],
        "summary": "The ingest tells each publisher about its own dead letters (subscribe with MQTT 5, QoS 1).",
        "bindings": {"mqtt": {"bindingVersion": _MQTT_BINDING_VERSION, "qos": 1, "retain": False}},
    }


def _operation(event_type: EventType) -> dict[str, Any]:
    # Operations describe the IOC side, which receives what publishers send.
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{_CHANNEL}"},
        "messages": [{"$ref": f"#/channels/{_CHANNEL}/messages/{event_type.value}"}],
        "summary": _SUMMARIES[event_type],
        "bindings": {
            "mqtt": {
                "bindingVersion": _MQTT_BINDING_VERSION,
                "qos": 1,
                "retain": event_type is EventType.STATUS,
            }
        },
    }


def _info_description() -> str:
    reasons = "\n".join(
        f"- `{reason.value}`: {text} Fix: {REJECT_REASON_FIXES[reason]}"
        for reason, text in REJECT_REASON_DESCRIPTIONS.items()
    )
    return (
        "Use MQTT 5: a publish the broker refuses (a topic not the publisher's own) is answered with reason code "
        "0x87 on MQTT 5, and silently dropped on MQTT 3.1.1.\n\n"
        f"Publishers send one JSON object per MQTT message to `{TOPIC_TEMPLATE}` with QoS 1. "
        f"The payload is UTF-8 JSON of at most {MAX_PAYLOAD_BYTES} bytes, nested at most "
        f"{MAX_JSON_DEPTH} levels, without NUL characters or non-finite numbers. "
        "Every event except `status` carries the envelope `event_id` (UUID, the deduplication key), "
        "`occurred_at` (RFC 3339 with offset), `area_code` and optionally `seq`; unknown fields are "
        "rejected. `status` is published retained and registered as the MQTT last will.\n\n"
        f"Rejected messages are kept in a dead-letter table with one of these codes, and each is sent to its "
        f"publisher on `{FEEDBACK_TOPIC_TEMPLATE}`:\n{reasons}\n"
    )


def render() -> dict[str, str]:
    """Every generated file, keyed by path relative to the output directory."""
    files = {ASYNCAPI_FILE: _dump(asyncapi())}
    for event_type in EventType:
        files[f"{SCHEMA_DIR}/{schema_name(event_type)}.json"] = _dump(json_schema(event_type))
    files[f"{SCHEMA_DIR}/{_FEEDBACK}.json"] = _dump(feedback_schema())
    return files


def _dump(document: Mapping[str, Any]) -> str:
    # Sorted and newline-terminated so regeneration is byte-for-byte stable.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: Path) -> list[Path]:
    written = []
    for relative, content in render().items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        written.append(target)
    return written


def drifted(directory: Path) -> list[str]:
    """One message per file in `directory` that is missing, different or stale."""
    expected = render()
    problems = []
    for relative, content in expected.items():
        target = directory / relative
        if not target.is_file():
            problems.append(f"{target} is missing")
        elif target.read_text(encoding="utf-8") != content:
            problems.append(f"{target} differs from the generated output")
    schema_dir = directory / SCHEMA_DIR
    if schema_dir.is_dir():
        for stale in sorted(schema_dir.glob("*.json")):
            if f"{SCHEMA_DIR}/{stale.name}" not in expected:
                problems.append(f"{stale} is not generated by the models")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.contract.schema_export", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="DIR", type=Path, help="(re)generate the documents into DIR")
    mode.add_argument("--check", metavar="DIR", type=Path, help="exit 1 if DIR differs from the models")
    args = parser.parse_args(argv)
    if args.write is not None:
        for path in write(args.write):
            print(f"wrote {path}")
        return 0
    problems = drifted(args.check)
    for problem in problems:
        print(f"contract drift: {problem}", file=sys.stderr)
    if problems:
        print(
            f"regenerate with: python -m ingest.contract.schema_export --write {args.check}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
