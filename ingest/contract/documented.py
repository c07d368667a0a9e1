"""What the contract documents show beyond the models: the broker's servers and security, and one
fixed example per message, each validated by `decode()` in the tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from ingest.contract.errors import RejectReason
from ingest.contract.examples import Payload, example
from ingest.contract.topics import EventType

# Fixed, so that the generated documents are stable; decode() is given this time as "now".
EXAMPLE_TIME: Final = "2026-01-31T08:30:00+07:00"
EXAMPLE_NOW: Final = datetime(2026, 1, 31, 1, 31, tzinfo=UTC)
_EXAMPLE_IDS: Final[Mapping[EventType, str]] = MappingProxyType(
    {
        EventType.DOSSIER: "3f0c1a52-7d4e-4b8e-9a61-0c2d5e7f9b10",
        EventType.TRANSACTION: "8b6f2c1e-4a3d-4f7b-8e29-5d1c0a9b7e42",
        EventType.SAMPLE: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
    }
)
# A village of Đắk Nông: what a probe there sends (any unit of the areas table is valid).
EXAMPLE_VILLAGE_CODE: Final = "24615-01"  # Residential Group 1 of ward 24615


def documented_example(event_type: EventType) -> Payload:
    """The example of `event_type` that the AsyncAPI document and its JSON Schema carry."""
    if event_type is EventType.STATUS:
        return example(event_type, state="online", at=EXAMPLE_TIME)
    area = EXAMPLE_VILLAGE_CODE if event_type is EventType.SAMPLE else "24611"
    fixed = {"dossier_id": "H20.67-2f9a41c0"} if event_type is EventType.DOSSIER else {}
    return example(
        event_type, event_id=_EXAMPLE_IDS[event_type], occurred_at=EXAMPLE_TIME, area_code=area, seq=1, **fixed
    )


SECURITY_SCHEME: Final = "userPassword"


def servers() -> dict[str, Any]:
    """The broker as publishers reach it; its host is the deployment's (the connection kit prints it)."""
    host = {
        "broker_host": {
            "description": "The broker's public host name: IOC_MQTT_PUBLIC_TLS_URL / IOC_MQTT_PUBLIC_URL, printed "
            "by the connection kit of `ioc publishers add`."
        }
    }
    security = [{"$ref": f"#/components/securitySchemes/{SECURITY_SCHEME}"}]
    return {
        "production": {
            "host": "{broker_host}:8883",
            "protocol": "secure-mqtt",
            "protocolVersion": "5",
            "description": "MQTT 5 over TLS (TLS 1.2 or later), the broker's certificate verified against the CA "
            "the kit names. Production listens only here.",
            "variables": host,
            "security": security,
        },
        "plain": {
            "host": "{broker_host}:1883",
            "protocol": "mqtt",
            "protocolVersion": "5",
            "description": "MQTT 5 without TLS: only where the deployment offers it (the local stack's port, "
            "11883 by default; a closed network). Passwords travel in clear: never across the internet.",
            "variables": host,
            "security": security,
        },
    }


def security_schemes() -> dict[str, Any]:
    return {
        SECURITY_SCHEME: {
            "type": SECURITY_SCHEME,
            "description": "MQTT username and password: the username is the publisher id, the password is "
            "printed once by `ioc publishers add` (or `ioc publishers password`). The client id is always taken "
            "to be the username. Anonymous clients are refused. Over TLS in production.",
        }
    }


def feedback_example() -> dict[str, Any]:
    return {
        "event_id": "8b6f2c1e-4a3d-4f7b-8e29-5d1c0a9b7e42",
        "reason": RejectReason.AREA_NOT_ALLOWED.value,
        "detail": "area_code 24615 is outside area 24611, where publisher counter-gn-01 is registered: it may "
        "report for that unit and the units below it",
        "topic": "ioc/v1/payments/counter-gn-01/transaction",
        "received_at": "2026-01-31T01:30:00.125000+00:00",
    }
