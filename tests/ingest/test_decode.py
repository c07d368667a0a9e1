"""decode(): every valid event type and every class of bad input, with exact reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from ingest.contract import (
    Channel,
    CoverageSample,
    DossierDomain,
    DossierEvent,
    DossierStatus,
    EventType,
    NetworkOperator,
    NetworkTechnology,
    PayloadRejected,
    PaymentMethod,
    PaymentOutcome,
    PaymentSector,
    PaymentTransaction,
    PublisherState,
    PublisherStatus,
    RejectReason,
    ServiceLevel,
    Source,
    Topic,
    decode,
    examples,
)

NOW = datetime(2025, 1, 31, 3, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)
ICT = timezone(timedelta(hours=7))
EVENT_ID = "0b6c2f0e-8d4a-4c7e-9a51-3f2d7c1e9b10"
DOSSIER = "ioc/v1/portal/dvc-daknong/dossier"
PAYMENT = "ioc/v1/payments/vnpt-pay/transaction"
SAMPLE = "ioc/v1/coverage/probe-01/sample"
STATUS = "ioc/v1/coverage/probe-01/status"

Json = dict[str, object]


def _envelope() -> Json:
    return {"event_id": EVENT_ID, "occurred_at": "2025-01-31T09:58:00+07:00", "area_code": "67.660"}


def make_dossier(**overrides: object) -> Json:
    return _envelope() | {
        "dossier_id": "H20.66-250131-0001",
        "procedure_code": "1.001234",
        "domain": "land",
        "status": "accepted",
        "channel": "online",
        "service_level": "full_online",
        "e_certified": True,
        **overrides,
    }


def make_payment(**overrides: object) -> Json:
    return _envelope() | {
        "sector": "tax",
        "method": "qr",
        "amount_vnd": 150_000,
        "outcome": "succeeded",
        **overrides,
    }


def make_sample(**overrides: object) -> Json:
    return _envelope() | {
        "operator": "viettel",
        "technology": "4g",
        "download_mbps": 42.5,
        "upload_mbps": 12,
        "latency_ms": 38.0,
        "packet_loss_pct": 0.4,
        **overrides,
    }


def make_status(**overrides: object) -> Json:
    return {"state": "online", "at": "2025-01-31T02:59:00Z", **overrides}


def without(event: Json, field: str) -> Json:
    return {key: value for key, value in event.items() if key != field}


def encode(event: object) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def run(topic: str, payload: bytes, *, max_bytes: int = 65536) -> object:
    return decode(topic, payload, now=NOW, max_future_skew=SKEW, max_bytes=max_bytes).event


def rejection(topic: str, payload: bytes, *, max_bytes: int = 65536) -> PayloadRejected:
    with pytest.raises(PayloadRejected) as caught:
        run(topic, payload, max_bytes=max_bytes)
    return caught.value


def test_dossier_decodes_to_exact_values_with_offset_kept() -> None:
    payload = encode(make_dossier(seq=7, due_at="2025-02-14T17:00:00+07:00", paid_online=False))

    decoded = decode(DOSSIER, payload, now=NOW, max_future_skew=SKEW)

    assert decoded.topic == Topic(Source.PORTAL, "dvc-daknong", EventType.DOSSIER)
    assert decoded.event == DossierEvent(
        event_id=UUID(EVENT_ID),
        occurred_at=datetime(2025, 1, 31, 9, 58, tzinfo=ICT),
        area_code="67.660",
        seq=7,
        dossier_id="H20.66-250131-0001",
        procedure_code="1.001234",
        domain=DossierDomain.LAND,
        status=DossierStatus.ACCEPTED,
        channel=Channel.ONLINE,
        service_level=ServiceLevel.FULL_ONLINE,
        e_certified=True,
        due_at=datetime(2025, 2, 14, 17, 0, tzinfo=ICT),
        paid_online=False,
    )
    assert isinstance(decoded.event, DossierEvent)
    assert decoded.event.occurred_at.utcoffset() == timedelta(hours=7)
    assert decoded.event.due_at is not None
    assert decoded.event.due_at.utcoffset() == timedelta(hours=7)


def test_payment_decodes_to_exact_values() -> None:
    assert run(PAYMENT, encode(make_payment(occurred_at="2025-01-31T02:58:00Z"))) == PaymentTransaction(
        event_id=UUID(EVENT_ID),
        occurred_at=datetime(2025, 1, 31, 2, 58, tzinfo=UTC),
        area_code="67.660",
        sector=PaymentSector.TAX,
        method=PaymentMethod.QR,
        amount_vnd=150_000,
        outcome=PaymentOutcome.SUCCEEDED,
    )


def test_sample_decodes_to_exact_values() -> None:
    payload = encode(make_sample(rsrp_dbm=-95, village="Bon Bu Prăng", lat=12.0, lon=107.69))

    event = run(SAMPLE, payload)

    assert event == CoverageSample(
        event_id=UUID(EVENT_ID),
        occurred_at=datetime(2025, 1, 31, 9, 58, tzinfo=ICT),
        area_code="67.660",
        operator=NetworkOperator.VIETTEL,
        technology=NetworkTechnology.FOUR_G,
        download_mbps=42.5,
        upload_mbps=12.0,
        latency_ms=38.0,
        packet_loss_pct=0.4,
        rsrp_dbm=-95.0,
        village="Bon Bu Prăng",
        lat=12.0,
        lon=107.69,
    )


@pytest.mark.parametrize("topic", [f"ioc/v1/{source}/pub-1/status" for source in Source], ids=list(Source))
def test_status_decodes_under_every_source(topic: str) -> None:
    assert run(topic, encode(make_status(state="offline"))) == PublisherStatus(
        state=PublisherState.OFFLINE, at=datetime(2025, 1, 31, 2, 59, tzinfo=UTC)
    )


def test_status_carries_the_count_a_publisher_dropped_and_refuses_one_that_is_not_a_count() -> None:
    assert run(STATUS, encode(make_status(dropped=1234))) == PublisherStatus(
        state=PublisherState.ONLINE, at=datetime(2025, 1, 31, 2, 59, tzinfo=UTC), dropped=1234
    )
    for bad in (-1, 1.5, "12", 2**63):
        with pytest.raises(PayloadRejected) as refused:
            run(STATUS, encode(make_status(dropped=bad)))
        assert refused.value.reason is RejectReason.INVALID_VALUE


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        pytest.param(DOSSIER, encode(make_dossier(dossier_id="[[[[[[[[[[{{{{{{{{{{")), id="brackets-in-string"),
        pytest.param(DOSSIER, encode(make_dossier(dossier_id="a\\u0000")), id="escaped-backslash-u0000"),
        pytest.param(DOSSIER, encode(make_dossier(occurred_at="2025-01-31t02:58:00.123456789z")), id="rfc3339-lower"),
        pytest.param(DOSSIER, encode(make_dossier(seq=None, due_at=None, paid_online=None)), id="explicit-nulls"),
        pytest.param(PAYMENT, encode(make_payment(amount_vnd=10**12)), id="amount-max"),
        pytest.param(SAMPLE, encode(make_sample(packet_loss_pct=100, rsrp_dbm=-31)), id="range-edges"),
        pytest.param(SAMPLE, encode(make_sample(occurred_at="2025-01-31T03:05:00Z")), id="exactly-at-skew"),
        pytest.param(STATUS, encode(make_status(at="2025-01-31T10:05:00+07:00")), id="status-at-skew"),
        pytest.param(PAYMENT, encode(make_payment()).ljust(65536), id="exactly-max-bytes"),
    ],
)
def test_edge_cases_are_accepted(topic: str, payload: bytes) -> None:
    run(topic, payload)


BAD_INPUTS = [
    ("topic-before-size", "ioc/v1/portal/pub/sample", b"x" * 70_000, "topic_invalid"),
    ("too-large", PAYMENT, encode(make_payment()).ljust(65537), "too_large"),
    ("invalid-utf8", DOSSIER, encode(make_dossier(dossier_id="~")).replace(b"~", b"\xc3\x28"), "not_utf8"),
    (
        "utf8-surrogate",
        DOSSIER,
        encode(make_dossier(dossier_id="~")).replace(b"~", b"\xed\xa0\x80"),
        "not_utf8",
    ),
    ("raw-nul", DOSSIER, encode(make_dossier(dossier_id="~")).replace(b"~", b"\x00"), "nul_character"),
    ("nul-escape", DOSSIER, encode(make_dossier(dossier_id="a\x00b")), "nul_character"),
    ("nul-escape-key", DOSSIER, encode(make_dossier(**{"k\x00": 1})), "nul_character"),
    (
        "nul-escape-upper",
        DOSSIER,
        encode(make_dossier(dossier_id="~")).replace(b"~", b"\\U0000"),
        "nul_character",
    ),
    ("nul-before-json", DOSSIER, b'{"a": "\\u0000"', "nul_character"),
    ("not-json-truncated", DOSSIER, encode(make_dossier())[:-1], "not_json"),
    ("not-json-empty", DOSSIER, b"", "not_json"),
    ("not-json-single-quotes", DOSSIER, b"{'a': 1}", "not_json"),
    ("not-json-trailing-comma", PAYMENT, encode(make_payment())[:-1] + b",}", "not_json"),
    (
        "not-json-lone-surrogate",
        DOSSIER,
        encode(make_dossier(dossier_id="~")).replace(b"~", b"\\ud800"),
        "not_json",
    ),
    ("nan", SAMPLE, encode(make_sample(download_mbps=float("nan"))), "non_finite_number"),
    ("infinity", SAMPLE, encode(make_sample(latency_ms=float("inf"))), "non_finite_number"),
    ("minus-infinity", SAMPLE, encode(make_sample(rsrp_dbm=float("-inf"))), "non_finite_number"),
    (
        "overflow-1e999",
        SAMPLE,
        encode(make_sample(upload_mbps=7)).replace(b": 7", b": 1e999"),
        "non_finite_number",
    ),
    ("nan-in-int-field", PAYMENT, encode(make_payment(amount_vnd=float("nan"))), "non_finite_number"),
    ("nan-in-unknown-field", PAYMENT, encode(make_payment(extra=float("nan"))), "non_finite_number"),
    ("deep-9-top-level", PAYMENT, b"[" * 9 + b"]" * 9, "too_deep"),
    ("deep-9-in-field", PAYMENT, encode(make_payment(extra=[[[[[[[[1]]]]]]]])), "too_deep"),
    ("deep-8-in-field", PAYMENT, encode(make_payment(extra=[[[[[[[1]]]]]]])), "unknown_field"),
    ("nested-where-scalar", PAYMENT, encode(make_payment(amount_vnd={"v": 1})), "invalid_value"),
    ("top-level-array", PAYMENT, encode([make_payment()]), "not_object"),
    ("top-level-string", PAYMENT, b'"hello"', "not_object"),
    ("top-level-number", PAYMENT, b"42", "not_object"),
    ("top-level-null", PAYMENT, b"null", "not_object"),
    ("unknown-field", PAYMENT, encode(make_payment(currency="VND")), "unknown_field"),
    ("envelope-on-status", STATUS, encode(make_status(event_id=EVENT_ID)), "unknown_field"),
    ("missing-field", PAYMENT, encode(without(make_payment(), "outcome")), "missing_field"),
    ("missing-event-id", SAMPLE, encode(without(make_sample(), "event_id")), "missing_field"),
    ("status-missing-at", STATUS, encode(without(make_status(), "at")), "missing_field"),
    ("amount-as-string", PAYMENT, encode(make_payment(amount_vnd="150000")), "invalid_value"),
    ("amount-as-float", PAYMENT, encode(make_payment(amount_vnd=150000.0)), "invalid_value"),
    ("amount-as-bool", PAYMENT, encode(make_payment(amount_vnd=True)), "invalid_value"),
    ("e-certified-as-int", DOSSIER, encode(make_dossier(e_certified=1)), "invalid_value"),
    ("e-certified-as-string", DOSSIER, encode(make_dossier(e_certified="true")), "invalid_value"),
    ("seq-as-string", DOSSIER, encode(make_dossier(seq="1")), "invalid_value"),
    ("seq-negative", DOSSIER, encode(make_dossier(seq=-1)), "invalid_value"),
    ("loss-as-bool", SAMPLE, encode(make_sample(packet_loss_pct=False)), "invalid_value"),
    ("amount-zero", PAYMENT, encode(make_payment(amount_vnd=0)), "invalid_value"),
    ("amount-too-big", PAYMENT, encode(make_payment(amount_vnd=10**12 + 1)), "invalid_value"),
    ("loss-101", SAMPLE, encode(make_sample(packet_loss_pct=101)), "invalid_value"),
    ("download-negative", SAMPLE, encode(make_sample(download_mbps=-0.1)), "invalid_value"),
    ("rsrp-minus-30", SAMPLE, encode(make_sample(rsrp_dbm=-30)), "invalid_value"),
    ("rsrp-minus-157", SAMPLE, encode(make_sample(rsrp_dbm=-157)), "invalid_value"),
    ("lat-91", SAMPLE, encode(make_sample(lat=91, lon=107.7)), "invalid_value"),
    ("lat-without-lon", SAMPLE, encode(make_sample(lat=12.0)), "invalid_value"),
    ("village-empty", SAMPLE, encode(make_sample(village="")), "invalid_value"),
    ("dossier-id-129", DOSSIER, encode(make_dossier(dossier_id="x" * 129)), "invalid_value"),
    ("area-code-bad-char", DOSSIER, encode(make_dossier(area_code="67 660")), "invalid_value"),
    ("area-code-33", DOSSIER, encode(make_dossier(area_code="6" * 33)), "invalid_value"),
    ("enum-uppercase", STATUS, encode(make_status(state="ONLINE")), "invalid_value"),
    ("enum-unknown", DOSSIER, encode(make_dossier(domain="health")), "invalid_value"),
    ("naive-datetime", DOSSIER, encode(make_dossier(occurred_at="2025-01-31T09:58:00")), "invalid_value"),
    ("naive-due-at", DOSSIER, encode(make_dossier(due_at="2025-02-14T17:00:00")), "invalid_value"),
    ("date-only", DOSSIER, encode(make_dossier(occurred_at="2025-01-31")), "invalid_value"),
    (
        "compact-offset",
        DOSSIER,
        encode(make_dossier(occurred_at="2025-01-31T09:58:00+0700")),
        "invalid_value",
    ),
    ("unix-string", DOSSIER, encode(make_dossier(occurred_at="1738292280")), "invalid_value"),
    ("unix-number", DOSSIER, encode(make_dossier(occurred_at=1738292280)), "invalid_value"),
    ("status-naive-at", STATUS, encode(make_status(at="2025-01-31T02:59:00")), "invalid_value"),
    ("bad-uuid", DOSSIER, encode(make_dossier(event_id="not-a-uuid")), "invalid_value"),
    ("uuid-as-number", DOSSIER, encode(make_dossier(event_id=12345)), "invalid_value"),
    ("future-event", SAMPLE, encode(make_sample(occurred_at="2025-01-31T03:05:00.000001Z")), "future_event"),
    ("future-status", STATUS, encode(make_status(at="2025-01-31T10:05:01+07:00")), "future_event"),
]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [pytest.param(topic, payload, reason, id=name) for name, topic, payload, reason in BAD_INPUTS],
)
def test_bad_input_gets_exact_reason(topic: str, payload: bytes, reason: str) -> None:
    assert rejection(topic, payload).reason is RejectReason(reason)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"[" * 100_000, id="unclosed-arrays"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="balanced-arrays"),
        pytest.param(b'{"a":' * 100_000, id="unclosed-objects"),
    ],
)
def test_100000_deep_payload_is_too_deep_without_recursion(payload: bytes) -> None:
    # The size limit is raised so that nesting, not size, is what trips.
    assert rejection(PAYMENT, payload, max_bytes=len(payload)).reason is RejectReason.TOO_DEEP
    assert rejection(PAYMENT, payload).reason is RejectReason.TOO_LARGE


def test_detail_names_field_and_limit() -> None:
    rejected = rejection(PAYMENT, encode(make_payment(amount_vnd=10**12 + 1)))

    assert rejected.detail == "amount_vnd: Input should be less than or equal to 1000000000000"


def test_detail_is_bounded_when_every_key_is_unknown_and_long() -> None:
    event = make_payment(**{f"{index:04d}" + "k" * 200: index for index in range(200)})

    rejected = rejection(PAYMENT, encode(event))

    assert rejected.reason is RejectReason.UNKNOWN_FIELD
    assert len(rejected.detail) <= 500
    assert str(rejected).startswith("unknown_field: ")


def test_future_detail_shows_both_times() -> None:
    rejected = rejection(SAMPLE, encode(make_sample(occurred_at="2025-01-31T10:06:00+07:00")))

    assert rejected.detail == (
        "occurred_at 2025-01-31T10:06:00+07:00 is more than 0:05:00 after the server time 2025-01-31T03:00:00+00:00"
    )


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decode(PAYMENT, encode(make_payment()), now=datetime(2025, 1, 31), max_future_skew=SKEW)


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("ioc/v1/coverage/probe-1/sample", examples.transaction(), "ioc/v1/payments/<their id>/transaction"),
        ("ioc/v1/payments/counter-1/transaction", examples.sample(), "ioc/v1/coverage/<their id>/sample"),
        ("ioc/v1/portal/portal-1/dossier", examples.transaction(), "ioc/v1/payments/<their id>/transaction"),
        ("ioc/v1/coverage/probe-1/status", examples.dossier(), "ioc/v1/portal/<their id>/dossier"),
    ],
)
def test_an_event_of_another_source_on_a_topic_is_source_mismatch_naming_the_expected_topic(
    topic: str, payload: dict[str, object], expected: str
) -> None:
    with pytest.raises(PayloadRejected) as caught:
        decode(topic, encode(payload), now=NOW, max_future_skew=SKEW)

    assert caught.value.reason is RejectReason.SOURCE_MISMATCH
    assert expected in caught.value.detail
    assert topic in caught.value.detail


def test_a_payment_with_an_unknown_field_on_a_payments_topic_stays_unknown_field() -> None:
    with pytest.raises(PayloadRejected) as caught:
        decode(
            "ioc/v1/payments/c/transaction", encode(examples.transaction(currency="VND")), now=NOW, max_future_skew=SKEW
        )

    assert caught.value.reason is RejectReason.UNKNOWN_FIELD
