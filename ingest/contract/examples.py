"""Valid payloads of contract v1, one function per event type, every field overridable.

What a valid event looks like, kept beside the models: the tests, the simulator, the benchmarks and
the verification suite build their events here and own only their scenario (which areas, which
amounts, how often a payment fails), passed as overrides.

- Without a generator each field takes one fixed, typical value (a health payment of 250,000 đồng
  by QR...), with a fresh `event_id`; with a `random.Random` every required field is drawn from its
  valid values, so a seed gives the same events (times excepted: see below).
- An override is the JSON value sent as is, so a hostile one (a wrong type, an unknown field) goes
  out unchanged for the contract to refuse (to leave a field out, delete it from the result); a
  `datetime` given for a time field is written as RFC 3339. Optional fields appear only when given.
- Times default to the clock (`occurred_at` now, a status's `at` now): pass them for a fixed stream.
- Keys come in the models' field order, unknown ones last, so every caller sends the same shape.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType
from typing import Final

from ingest.contract.events import (
    Channel,
    DossierDomain,
    DossierStatus,
    NetworkOperator,
    NetworkTechnology,
    PaymentMethod,
    PaymentOutcome,
    PaymentSector,
    PublisherState,
    ServiceLevel,
)
from ingest.contract.topics import EventType

Payload = dict[str, object]


EXAMPLE_AREA_CODE: Final = "24611"  # Nghĩa Đức ward, Gia Nghĩa: one of the shipped Đắk Nông areas

_Fixed = Callable[[], object]
_Draw = Callable[[random.Random], object]
_TIME_FIELDS: Final = frozenset({"occurred_at", "due_at", "at"})


@dataclass(frozen=True, slots=True)
class _Field:
    example: _Fixed  # without a generator
    draw: _Draw | None  # with one; None: an optional field, present only when given


def _values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _fresh_id() -> str:
    return str(uuid.uuid4())


# What uuid.UUID(int=n, version=4) sets (version 4, RFC 4122 variant), without building the object:
# the same text in under half the time, which the benchmarks' generation step notices.
_UUID4_KEEP: Final = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET: Final = (0x4000 << 64) | (0x8000 << 48)


def _drawn_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128) & _UUID4_KEEP | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fixed(value: object) -> _Fixed:
    return lambda: value


def _one_of(enum: type[Enum]) -> _Draw:
    values = _values(enum)
    return lambda rng: rng.choice(values)


def _required(example: _Fixed, draw: _Draw) -> _Field:
    return _Field(example, draw)


_OPTIONAL: Final = _Field(_fixed(None), None)


def _envelope() -> dict[str, _Field]:
    return {
        "event_id": _required(_fresh_id, _drawn_id),
        "occurred_at": _required(_now, lambda _: _now()),
        "area_code": _required(_fixed(EXAMPLE_AREA_CODE), lambda _: EXAMPLE_AREA_CODE),
        "seq": _OPTIONAL,
    }


# Per event type, in the model's field order. Draws are plausible as well as valid: amounts in whole
# thousands of đồng up to 5 million, speeds log-normal around a rural 4G cell (exp of gauss(): the
# same law as lognormvariate(), faster), latency 15–300 ms.
_FIELDS: Final[Mapping[EventType, Mapping[str, _Field]]] = MappingProxyType(
    {
        EventType.TRANSACTION: {
            **_envelope(),
            "sector": _required(_fixed(PaymentSector.HEALTH.value), _one_of(PaymentSector)),
            "method": _required(_fixed(PaymentMethod.QR.value), _one_of(PaymentMethod)),
            "amount_vnd": _required(_fixed(250_000), lambda rng: rng.randrange(10_000, 5_000_000, 1_000)),
            "outcome": _required(_fixed(PaymentOutcome.SUCCEEDED.value), _one_of(PaymentOutcome)),
        },
        EventType.SAMPLE: {
            **_envelope(),
            "operator": _required(_fixed(NetworkOperator.VNPT.value), _one_of(NetworkOperator)),
            "technology": _required(_fixed(NetworkTechnology.FOUR_G.value), _one_of(NetworkTechnology)),
            "download_mbps": _required(_fixed(18.5), lambda rng: round(math.exp(rng.gauss(2.5, 0.9)), 2)),
            "upload_mbps": _required(_fixed(6.25), lambda rng: round(math.exp(rng.gauss(1.5, 0.8)), 2)),
            "latency_ms": _required(_fixed(42.0), lambda rng: round(rng.uniform(15, 300), 1)),
            "packet_loss_pct": _required(_fixed(0.5), lambda rng: round(rng.uniform(0, 5), 2)),
            "rsrp_dbm": _OPTIONAL,
            "village": _OPTIONAL,
            "lat": _OPTIONAL,
            "lon": _OPTIONAL,
        },
        EventType.DOSSIER: {
            **_envelope(),
            "dossier_id": _required(
                lambda: f"H20.67-{uuid.uuid4().hex[:8]}", lambda rng: f"H20.67-{rng.getrandbits(32):08x}"
            ),
            "procedure_code": _required(_fixed("1.004227"), lambda rng: f"1.00{rng.randrange(1000, 9999)}"),
            "domain": _required(_fixed(DossierDomain.LAND.value), _one_of(DossierDomain)),
            "status": _required(_fixed(DossierStatus.SUBMITTED.value), _one_of(DossierStatus)),
            "channel": _required(_fixed(Channel.ONLINE.value), _one_of(Channel)),
            "service_level": _required(_fixed(ServiceLevel.FULL_ONLINE.value), _one_of(ServiceLevel)),
            "e_certified": _required(_fixed(True), lambda rng: rng.random() < 0.5),
            "due_at": _OPTIONAL,
            "paid_online": _OPTIONAL,
        },
        EventType.STATUS: {
            "state": _required(_fixed(PublisherState.ONLINE.value), _one_of(PublisherState)),
            "at": _required(_now, lambda _: _now()),
            "dropped": _OPTIONAL,
        },
    }
)


@dataclass(frozen=True, slots=True)
class _Plan:
    steps: tuple[tuple[str, _Draw | None], ...]  # in order; None: the override's value
    times: tuple[str, ...]  # overridden time fields, which may be datetimes to write as RFC 3339


class _Payloads:
    """One event type's payloads. Where each field comes from is worked out once per set of
    overridden names and kept: the benchmarks build millions of payloads with the same set."""

    _MAX_PLANS: Final = 256

    def __init__(self, fields: Mapping[str, _Field]) -> None:
        self.fields = fields
        self._plans: dict[tuple[bool, tuple[str, ...]], _Plan] = {}

    def build(self, rng: random.Random | None, overrides: Mapping[str, object]) -> Payload:
        key = (rng is not None, tuple(overrides))
        plan = self._plans.get(key) or self._plan(*key)
        source = rng or _UNUSED  # without a generator every step is a fixed example, which ignores it
        body = {name: overrides[name] if draw is None else draw(source) for name, draw in plan.steps}
        for name in plan.times:
            if isinstance(value := body[name], datetime):
                body[name] = value.isoformat()
        return body

    def _plan(self, drawn: bool, given: tuple[str, ...]) -> _Plan:
        steps: list[tuple[str, _Draw | None]] = []
        for name, field in self.fields.items():
            if name in given:
                steps.append((name, None))
            elif field.draw is not None:  # else optional: absent unless given
                steps.append((name, field.draw if drawn else _ignoring_rng(field.example)))
        steps += [(name, None) for name in given if name not in self.fields]  # unknown to the contract: last
        if len(self._plans) >= self._MAX_PLANS:
            self._plans.clear()
        plan = self._plans[drawn, given] = _Plan(tuple(steps), tuple(n for n in given if n in _TIME_FIELDS))
        return plan


def _ignoring_rng(example: _Fixed) -> _Draw:
    return lambda _: example()


_UNUSED: Final = random.Random(0)
_PAYLOADS: Final = MappingProxyType({event_type: _Payloads(fields) for event_type, fields in _FIELDS.items()})
_TRANSACTION: Final = _PAYLOADS[EventType.TRANSACTION]
_SAMPLE: Final = _PAYLOADS[EventType.SAMPLE]
_DOSSIER: Final = _PAYLOADS[EventType.DOSSIER]
_STATUS: Final = _PAYLOADS[EventType.STATUS]


def transaction(rng: random.Random | None = None, /, **fields: object) -> Payload:
    return _TRANSACTION.build(rng, fields)


def sample(rng: random.Random | None = None, /, **fields: object) -> Payload:
    return _SAMPLE.build(rng, fields)


def dossier(rng: random.Random | None = None, /, **fields: object) -> Payload:
    return _DOSSIER.build(rng, fields)


def status(rng: random.Random | None = None, /, **fields: object) -> Payload:
    return _STATUS.build(rng, fields)


def example(event_type: EventType, rng: random.Random | None = None, /, **fields: object) -> Payload:
    """The payload of `event_type` (the function of that type, chosen at run time)."""
    return _PAYLOADS[event_type].build(rng, fields)


def field_names(event_type: EventType) -> tuple[str, ...]:
    """Every field the examples know for `event_type`, in order: a unit test holds it to the model's."""
    return tuple(_FIELDS[event_type])
