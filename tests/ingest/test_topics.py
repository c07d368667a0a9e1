"""Topic grammar of contract v1: ioc/v1/{source}/{publisher_id}/{event_type}."""

from __future__ import annotations

import pytest

from ingest.contract import EventType, PayloadRejected, RejectReason, Source, Topic, parse_topic
from ingest.service.runner import subscription_filter


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        pytest.param(
            "ioc/v1/portal/dvc-daknong/dossier",
            Topic(Source.PORTAL, "dvc-daknong", EventType.DOSSIER),
            id="portal-dossier",
        ),
        pytest.param(
            "ioc/v1/payments/vnpt-pay/transaction",
            Topic(Source.PAYMENTS, "vnpt-pay", EventType.TRANSACTION),
            id="payments-transaction",
        ),
        pytest.param(
            "ioc/v1/coverage/probe-01/sample",
            Topic(Source.COVERAGE, "probe-01", EventType.SAMPLE),
            id="coverage-sample",
        ),
        pytest.param(
            "ioc/v1/portal/dvc-daknong/status",
            Topic(Source.PORTAL, "dvc-daknong", EventType.STATUS),
            id="portal-status",
        ),
        pytest.param("ioc/v1/payments/p/status", Topic(Source.PAYMENTS, "p", EventType.STATUS), id="payments-status"),
        pytest.param("ioc/v1/coverage/0/status", Topic(Source.COVERAGE, "0", EventType.STATUS), id="coverage-status"),
        pytest.param(
            f"ioc/v1/coverage/{'a' * 64}/sample",
            Topic(Source.COVERAGE, "a" * 64, EventType.SAMPLE),
            id="publisher-64-chars",
        ),
        pytest.param(
            "ioc/v1/portal/9-x-/dossier",
            Topic(Source.PORTAL, "9-x-", EventType.DOSSIER),
            id="publisher-digit-first-hyphen-last",
        ),
    ],
)
def test_valid_topic_parses_to_exact_topic(topic: str, expected: Topic) -> None:
    parsed = parse_topic(topic)

    assert parsed == expected
    assert str(parsed) == topic


@pytest.mark.parametrize(
    "topic",
    [
        pytest.param("iot/v1/portal/pub/dossier", id="wrong-prefix"),
        pytest.param("IOC/v1/portal/pub/dossier", id="uppercase-prefix"),
        pytest.param("ioc/v2/portal/pub/dossier", id="wrong-version"),
        pytest.param("ioc/V1/portal/pub/dossier", id="uppercase-version"),
        pytest.param("/ioc/v1/portal/pub/dossier", id="leading-slash"),
        pytest.param("ioc/v1/portal/pub/dossier/", id="trailing-slash"),
        pytest.param("ioc/v1/portal/pub/dossier/extra", id="extra-level"),
        pytest.param("ioc/v1/portal/dossier", id="missing-publisher-level"),
        pytest.param("ioc/v1/portal/pub", id="missing-event-type-level"),
        pytest.param("ioc/v1/pub/dossier", id="missing-source-level"),
        pytest.param("ioc/v1/portal//dossier", id="empty-publisher"),
        pytest.param("ioc/v1//pub/dossier", id="empty-source"),
        pytest.param("ioc/v1/portal/pub/", id="empty-event-type"),
        pytest.param("", id="empty-topic"),
        pytest.param("ioc/v1/Portal/pub/dossier", id="uppercase-source"),
        pytest.param("ioc/v1/citizen/pub/dossier", id="unknown-source"),
        pytest.param("ioc/v1/portal/Pub/dossier", id="uppercase-publisher"),
        pytest.param("ioc/v1/portal/pub+1/dossier", id="publisher-plus"),
        pytest.param("ioc/v1/portal/+/dossier", id="publisher-wildcard-plus"),
        pytest.param("ioc/v1/portal/#/dossier", id="publisher-wildcard-hash"),
        pytest.param("ioc/v1/portal/pu/b/dossier", id="publisher-slash"),
        pytest.param("ioc/v1/portal/-pub/dossier", id="publisher-leading-hyphen"),
        pytest.param("ioc/v1/portal/pub_1/dossier", id="publisher-underscore"),
        pytest.param("ioc/v1/portal/pub.1/dossier", id="publisher-dot"),
        pytest.param("ioc/v1/portal/pub\x00/dossier", id="publisher-nul"),
        pytest.param("ioc/v1/portal/đắk/dossier", id="publisher-non-ascii"),
        pytest.param(f"ioc/v1/portal/{'a' * 65}/dossier", id="publisher-65-chars"),
        pytest.param("ioc/v1/portal/pub/Dossier", id="uppercase-event-type"),
        pytest.param("ioc/v1/portal/pub/event", id="unknown-event-type"),
        pytest.param("ioc/v1/portal/pub/transaction", id="portal-transaction"),
        pytest.param("ioc/v1/portal/pub/sample", id="portal-sample"),
        pytest.param("ioc/v1/payments/pub/dossier", id="payments-dossier"),
        pytest.param("ioc/v1/payments/pub/sample", id="payments-sample"),
        pytest.param("ioc/v1/coverage/pub/dossier", id="coverage-dossier"),
        pytest.param("ioc/v1/coverage/pub/transaction", id="coverage-transaction"),
        pytest.param("ioc/v1/portal/pub/dossier\n", id="trailing-newline"),
        pytest.param(" ioc/v1/portal/pub/dossier", id="leading-space"),
    ],
)
def test_malformed_topic_is_rejected(topic: str) -> None:
    with pytest.raises(PayloadRejected) as caught:
        parse_topic(topic)

    assert caught.value.reason is RejectReason.TOPIC_INVALID
    assert caught.value.detail


@pytest.mark.parametrize(
    ("topic", "expected_detail"),
    [
        pytest.param(
            "ioc/v1/portal/pub/transaction",
            "event type 'transaction' is not allowed under source 'portal' (allowed: dossier, status)",
            id="type-not-allowed",
        ),
        pytest.param(
            "ioc/v1/portal/Pub/dossier",
            "publisher_id 'Pub' does not match [a-z0-9][a-z0-9-]{0,63}",
            id="bad-publisher",
        ),
        pytest.param(
            "ioc/v1/portal/pub",
            "topic 'ioc/v1/portal/pub' has 4 levels; expected 5 as in ioc/v1/{source}/{publisher_id}/{event_type}",
            id="levels",
        ),
        pytest.param(
            "ioc/v2/portal/pub/dossier",
            "topic 'ioc/v2/portal/pub/dossier' must start with ioc/v1/",
            id="prefix",
        ),
        pytest.param(
            "ioc/v1/citizen/pub/dossier",
            "unknown source 'citizen'; expected one of portal, payments, coverage",
            id="source",
        ),
    ],
)
def test_rejection_detail_names_the_broken_level(topic: str, expected_detail: str) -> None:
    with pytest.raises(PayloadRejected) as caught:
        parse_topic(topic)

    assert caught.value.detail == expected_detail


def test_hostile_topic_detail_is_bounded_and_escaped() -> None:
    topic = "ioc/v1/portal/" + "\n" * 10_000 + "/dossier"

    with pytest.raises(PayloadRejected) as caught:
        parse_topic(topic)

    assert len(caught.value.detail) <= 500
    assert "\n" not in caught.value.detail


def test_one_process_subscribes_plainly_and_a_group_shares_the_stream() -> None:
    assert subscription_filter("") == "ioc/v1/#"
    assert subscription_filter("ingest") == "$share/ingest/ioc/v1/#"
