"""The contract's examples: every one is accepted by decode(), overrides go out as given (so a hostile
one is refused with its reason), and a seed replays the same events."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.contract import EVENT_MODELS, EventType, PayloadRejected, RejectReason, decode, examples
from ingest.contract.examples import Payload

NOW = datetime.now(UTC)
SKEW = timedelta(minutes=5)
TOPICS = {
    EventType.DOSSIER: "ioc/v1/portal/dvc-daknong/dossier",
    EventType.TRANSACTION: "ioc/v1/payments/vnpt-pay/transaction",
    EventType.SAMPLE: "ioc/v1/coverage/probe-01/sample",
    EventType.STATUS: "ioc/v1/coverage/probe-01/status",
}
# A valid value for every optional field, so that a "full" example gives every field of the model.
OPTIONAL = {
    EventType.DOSSIER: {"seq": 7, "due_at": NOW + timedelta(days=10), "paid_online": False},
    EventType.TRANSACTION: {"seq": 7},
    EventType.SAMPLE: {"seq": 7, "rsrp_dbm": -101.5, "village": "Bon Bu Prăng", "lat": 12.45, "lon": 107.6},
    EventType.STATUS: {"dropped": 12},
}


def accepts(event_type: EventType, body: Payload) -> bool:
    payload = json.dumps(body, ensure_ascii=False).encode()
    decoded = decode(TOPICS[event_type], payload, now=datetime.now(UTC), max_future_skew=SKEW)
    return type(decoded.event) is EVENT_MODELS[event_type]


def refusal(event_type: EventType, body: Payload) -> PayloadRejected:
    with pytest.raises(PayloadRejected) as refused:
        accepts(event_type, body)
    return refused.value


@pytest.mark.parametrize("event_type", list(EventType))
def test_the_examples_know_every_field_of_the_model_in_its_order(event_type: EventType) -> None:
    assert examples.field_names(event_type) == tuple(EVENT_MODELS[event_type].model_fields)
    full = examples.example(event_type, **OPTIONAL[event_type])
    assert tuple(full) == examples.field_names(event_type)


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_example_is_accepted_fixed_drawn_and_with_every_optional_field(event_type: EventType) -> None:
    rng = random.Random(21)
    assert accepts(event_type, examples.example(event_type))
    assert accepts(event_type, examples.example(event_type, **OPTIONAL[event_type]))
    for _ in range(500):  # every enum value and the ends of the drawn ranges come up
        assert accepts(event_type, examples.example(event_type, rng))
    assert accepts(event_type, examples.example(event_type, rng, **OPTIONAL[event_type]))


def test_the_function_of_each_type_is_the_example_of_that_type() -> None:
    at = "2025-01-31T09:58:00+07:00"
    functions = {
        EventType.DOSSIER: examples.dossier,
        EventType.TRANSACTION: examples.transaction,
        EventType.SAMPLE: examples.sample,
        EventType.STATUS: examples.status,
    }
    for event_type, function in functions.items():
        fixed_time = {"at": at} if event_type is EventType.STATUS else {"occurred_at": at}
        assert function(random.Random(3), **fixed_time) == examples.example(event_type, random.Random(3), **fixed_time)


def test_without_a_generator_the_example_is_the_typical_one_with_a_fresh_id() -> None:
    one, two = examples.transaction(), examples.transaction()
    assert {k: v for k, v in one.items() if k not in ("event_id", "occurred_at")} == {
        "area_code": "24611", "sector": "health", "method": "qr", "amount_vnd": 250_000, "outcome": "succeeded",
    }  # fmt: skip
    assert one["event_id"] != two["event_id"]
    assert abs(datetime.fromisoformat(str(one["occurred_at"])) - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_seed_replays_the_same_events_and_another_seed_does_not() -> None:
    at = {"occurred_at": "2025-01-31T09:58:00+07:00"}

    def stream(seed: int) -> list[Payload]:
        rng = random.Random(seed)
        return [examples.example(t, rng, **at) for t in (EventType.DOSSIER, EventType.TRANSACTION, EventType.SAMPLE)]

    assert stream(9) == stream(9)
    assert stream(9) != stream(10)
    # The ids are what uuid.UUID(int=..., version=4) makes of the generator's next 128 bits.
    rng = random.Random(9)
    assert examples.transaction(rng)["event_id"] == str(uuid.UUID(int=random.Random(9).getrandbits(128), version=4))
    assert all(uuid.UUID(str(p["event_id"])).version == 4 for p in stream(11))


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_field_can_be_overridden_in_its_place(event_type: EventType) -> None:
    names = examples.field_names(event_type)
    for drawn in (None, random.Random(5)):
        for name in names:
            body = examples.example(event_type, drawn, **{name: "given"})
            assert body[name] == "given"
            assert list(body) == [n for n in names if n in body]


def test_overrides_go_out_as_given_in_the_models_order_whatever_order_they_come_in() -> None:
    ict = timezone(timedelta(hours=7))
    body = examples.dossier(
        random.Random(1), paid_online=True, status="resolved", due_at=datetime(2025, 2, 10, 17, 0, tzinfo=ict), seq=3
    )
    assert tuple(body) == (
        "event_id", "occurred_at", "area_code", "seq", "dossier_id", "procedure_code", "domain", "status",
        "channel", "service_level", "e_certified", "due_at", "paid_online",
    )  # fmt: skip
    assert (body["status"], body["seq"], body["paid_online"]) == ("resolved", 3, True)
    assert body["due_at"] == "2025-02-10T17:00:00+07:00"  # a datetime is written as RFC 3339
    assert accepts(EventType.DOSSIER, body)


def test_a_hostile_override_goes_out_unchanged_and_the_contract_refuses_it_with_its_reason() -> None:
    wrong_type = refusal(EventType.TRANSACTION, examples.transaction(amount_vnd="250000"))
    assert wrong_type.reason is RejectReason.INVALID_VALUE
    assert wrong_type.detail.startswith("amount_vnd: ")

    unknown = examples.sample(random.Random(2), note="x")
    assert list(unknown)[-1] == "note"  # unknown fields last
    assert refusal(EventType.SAMPLE, unknown).reason is RejectReason.UNKNOWN_FIELD

    half_a_point = refusal(EventType.SAMPLE, examples.sample(lat=12.45))
    assert half_a_point.reason is RejectReason.INVALID_VALUE

    without_area = examples.dossier()
    del without_area["area_code"]
    assert refusal(EventType.DOSSIER, without_area).reason is RejectReason.MISSING_FIELD

    too_late = refusal(EventType.STATUS, examples.status(at=datetime.now(UTC) + timedelta(hours=1)))
    assert too_late.reason is RejectReason.FUTURE_EVENT
