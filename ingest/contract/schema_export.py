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

from ingest.contract.errors import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, REJECT_REASON_DESCRIPTIONS
from ingest.contract.events import EVENT_MODELS
from ingest.contract.topics import (
    ALLOWED_EVENT_TYPES,
    PUBLISHER_ID_PATTERN,
    TOPIC_TEMPLATE,
    EventType,
    Source,
)

ASYNCAPI_FILE: Final = "asyncapi.json"
SCHEMA_DIR: Final = "schemas"
CONTRACT_VERSION: Final = "1.0.0"
_CHANNEL: Final = "inbound"
_MQTT_BINDING_VERSION: Final = "0.2.0"
_JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

_SUMMARIES: Final[Mapping[EventType, str]] = {
    EventType.DOSSIER: "A dossier changed state in the public-service portal.",
    EventType.TRANSACTION: "A payment was made to or through a public service.",
    EventType.SAMPLE: "A network coverage and quality measurement.",
    EventType.STATUS: "Publisher liveness; set retained and as the MQTT last will. No envelope.",
}


def sources_for(event_type: EventType) -> list[Source]:
    """Sources under which the event type may be published, in declaration order."""
    return [source for source in Source if event_type in ALLOWED_EVENT_TYPES[source]]


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
        "channels": {
            _CHANNEL: {
                "address": TOPIC_TEMPLATE,
                "title": "Inbound events from registered publishers",
                "parameters": _parameters(),
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {f"receive_{event_type.value}": _operation(event_type) for event_type in EventType},
        "components": {"messages": messages},
        "x-max-payload-bytes": MAX_PAYLOAD_BYTES,
        "x-max-json-depth": MAX_JSON_DEPTH,
        "x-dead-letter-reasons": {reason.value: text for reason, text in REJECT_REASON_DESCRIPTIONS.items()},
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
        "x-topic": _topic_for(event_type),
        "x-retained": status,
        "x-last-will": status,
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
    reasons = "\n".join(f"- `{reason.value}`: {text}" for reason, text in REJECT_REASON_DESCRIPTIONS.items())
    return (
        f"Publishers send one JSON object per MQTT message to `{TOPIC_TEMPLATE}` with QoS 1. "
        f"The payload is UTF-8 JSON of at most {MAX_PAYLOAD_BYTES} bytes, nested at most "
        f"{MAX_JSON_DEPTH} levels, without NUL characters or non-finite numbers. "
        "Every event except `status` carries the envelope `event_id` (UUID, the deduplication key), "
        "`occurred_at` (RFC 3339 with offset), `area_code` and optionally `seq`; unknown fields are "
        "rejected. `status` is published retained and registered as the MQTT last will.\n\n"
        f"Rejected messages are kept in a dead-letter table with one of these codes:\n{reasons}\n"
    )


def render() -> dict[str, str]:
    """Every generated file, keyed by path relative to the output directory."""
    files = {ASYNCAPI_FILE: _dump(asyncapi())}
    for event_type in EventType:
        files[f"{SCHEMA_DIR}/{schema_name(event_type)}.json"] = _dump(json_schema(event_type))
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
