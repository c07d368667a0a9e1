"""Pure rules of delivery: backoff, what a status means, the signature, the Vietnamese line, the
Alertmanager alert."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from notify.alert_text import alert_text_vi
from notify.backoff import RetryPolicy
from notify.receivers import outcome_of_status
from notify.receivers.alertmanager import AlertmanagerReceiver
from notify.receivers.signature import signature, verify
from notify.settings import NotifySettings
from streams.alerts.area_book import AreaBook
from streams.alerts.messages import AreaName


def test_backoff_doubles_from_the_initial_delay_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_seconds=1, max_delay_seconds=60, retry_for_seconds=86_400)
    assert [policy.delay(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy.delay(10_000) == 60  # no overflow however long it has failed


def test_a_status_says_delivered_retry_or_refused_for_good() -> None:
    assert outcome_of_status(200, "").kind == "delivered"
    assert outcome_of_status(204, "").kind == "delivered"
    for status in (500, 502, 503, 408, 429):
        outcome = outcome_of_status(status, "busy")
        assert outcome.kind == "retry"
        assert outcome.receiver_down
    for status in (410, 404, 400, 401, 403, 301):
        assert outcome_of_status(status, "").kind == "refused"
    assert outcome_of_status(500, "line one\nline two" + "x" * 500).detail == "HTTP 500: line one line two" + "x" * 183


def test_the_signature_verifies_with_the_secret_only_for_the_same_bytes_and_a_recent_time() -> None:
    body = '{"text_vi":"Trạm \\"Đắk Lao\\"\\nmất"}'.encode()
    now = int(time.time())
    signed = signature("secret-of-sixteen", now, body)
    assert signed.startswith("v1=")
    assert len(signed) == 3 + 64
    assert verify("secret-of-sixteen", str(now), signed, body, now, 300)
    assert not verify("secret-of-seventeen", str(now), signed, body, now, 300)
    assert not verify("secret-of-sixteen", str(now), signed, body + b" ", now, 300)
    assert not verify("secret-of-sixteen", str(now + 1), signed, body, now, 300)  # the timestamp is signed
    assert not verify("secret-of-sixteen", str(now), signed, body, now + 301, 300)  # a replay, too late
    assert not verify("secret-of-sixteen", "not-a-time", signed, body, now, 300)


def test_the_vietnamese_line_is_the_alerts_own_text_on_one_line_whatever_the_names_hold() -> None:
    areas = AreaBook(
        {
            "24615": AreaName("24615", "commune", "Xã", "Đắk Lao", "Dak Lao Commune"),
            "24615-04": AreaName("24615-04", "village", "Bon", 'Bu\nPrăng"\t\u202e', "Bu Prang Village"),
        },
        {"24615": None, "24615-04": "24615"},
    )
    alert = {
        "severity": "critical", "rule_id": "publisher-silent", "kpi": "ops.publishers_silent", "window": "now",
        "area_code": "24615-04", "value": 1.0, "threshold": 900.0, "unit": "", "publishers": ["pay-0412"],
        "since": datetime(2026, 12, 7, 15, 3, tzinfo=UTC), "opened_at": datetime(2026, 12, 7, 15, 18, tzinfo=UTC),
    }  # fmt: skip
    line = alert_text_vi(alert, "opened", areas)
    assert line.startswith("[Khẩn cấp] ")
    assert line.endswith(" — đang mở")
    assert 'Xã Đắk Lao › Bon Bu Prăng"' in line  # the path, the newline and control characters gone
    assert "pay-0412" in line
    assert line == " ".join(line.split())
    assert line.isprintable()
    unknown = {**alert, "area_code": "99999", "value": None, "severity": "unknown", "since": None}
    other = alert_text_vi(unknown, "resolved", areas)
    assert other.startswith("[unknown] ")
    assert "99999" in other
    assert other.endswith(" — đã hết")


def test_an_open_alert_is_valid_four_reposts_ahead_and_a_resolved_one_ends_when_it_resolved() -> None:
    with httpx.Client() as client:
        receiver = AlertmanagerReceiver("http://am.example:9093/", client, {"env": "prod", "area": "ignored"}, 60)
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    payload = {
        "labels": {"alertname": "r", "area": "24615"},
        "text_vi": "dòng",
        "url": "https://ioc.example.vn/console#alert=7",
        "starts_at": "2026-12-07T14:00:00+00:00",
        "ends_at": None,
        "alert": {"message": "m", "state": "open"},
    }
    alert = receiver.alert(payload, now)
    assert alert["endsAt"] == (now + timedelta(minutes=4)).isoformat()
    assert alert["labels"] == {"env": "prod", "alertname": "r", "area": "24615"}  # the alert's own labels win
    assert alert["annotations"] == {
        "summary": "dòng", "description": "m", "console_url": "https://ioc.example.vn/console#alert=7", "state": "open",
    }  # fmt: skip
    resolved = receiver.alert({**payload, "ends_at": "2026-12-07T14:30:00+00:00"}, now)
    assert resolved["endsAt"] == "2026-12-07T14:30:00+00:00"


def test_webhook_settings_refuse_what_would_misdeliver_and_read_empty_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_NOTIFY_WEBHOOKS", "")
    monkeypatch.setenv("IOC_NOTIFY_ALERTMANAGER_URL", "")
    assert NotifySettings().notify_webhooks == []
    assert NotifySettings().notify_alertmanager_url is None
    hook = {"name": "bot", "url": "https://bot.example/hook", "secret": "0123456789abcdef"}
    for bad, field in (
        ([hook, hook], "a name of its own"),
        ([{**hook, "secret": "short"}], "secret"),
        ([{**hook, "url": "file:///etc/passwd"}], "url"),
        ([{**hook, "name": "Bot\nX"}], "name"),
        ([{**hook, "extra": 1}], "extra"),
    ):
        monkeypatch.setenv("IOC_NOTIFY_WEBHOOKS", json.dumps(bad))
        with pytest.raises(ValidationError, match=field):
            NotifySettings()
    monkeypatch.setenv("IOC_NOTIFY_WEBHOOKS", "[{not json")
    with pytest.raises(ValueError, match="Expecting property name"):
        NotifySettings()
