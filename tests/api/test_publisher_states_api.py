"""Publisher states, maintenance, enable, silent-after and alert mutes through the API (real database and broker):
what the console calls, each change recorded, and every bad input a clear 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from deploy.stack.manager import LocalStack
from tests.fixtures.api import bearer
from tests.fixtures.mqtt import BlockingClient, open_client, unique_publisher_id

pytestmark = pytest.mark.integration


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def keys(db: psycopg.Connection[tuple[object, ...]]) -> dict[str, dict[str, str]]:
    return {
        scope.label: bearer(ApiKeyRepository(db).create(f"ops-{scope.label}", scope))
        for scope in (Scope.READ, Scope.OPERATE, Scope.ADMIN)
    }


def test_maintenance_is_set_shown_recorded_and_ended(
    client: httpx.Client, stack: LocalStack, keys: dict[str, dict[str, str]], db: psycopg.Connection[tuple[object, ...]]
) -> None:
    counter = unique_publisher_id("counter")
    created = client.post(
        "/api/v1/publishers", json={"id": counter, "source": "payments", "area_code": "24615"}, headers=keys["admin"]
    ).json()["publisher"]
    registered = datetime.fromisoformat(created["created_at"])
    assert (created["state"], created["onboarding_until"]) == ("onboarding", _iso(registered + timedelta(days=1)))
    # Its first message, as ingest records it: active, and heard from just now, so not silent.
    db.execute("UPDATE publishers SET first_message_at = now(), last_message_at = now() WHERE id = %s", (counter,))
    shown = client.get(f"/api/v1/publishers/{counter}", headers=keys["read"]).json()
    assert (shown["state"], shown["silent"], shown["status"], shown["onboarding_until"]) == (
        "active",
        False,
        None,
        None,
    )

    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).astimezone(UTC)
    reason = "Quầy chuyển sang bàn mới"
    body = {"until": until.astimezone().isoformat(), "reason": reason}
    assert (
        client.put(f"/api/v1/publishers/{counter}/maintenance", json=body, headers=keys["operate"]).status_code == 403
    )
    set_ = client.put(f"/api/v1/publishers/{counter}/maintenance", json=body, headers=keys["admin"])
    assert set_.status_code == 200, set_.text
    maintenance = set_.json()["maintenance"]
    assert (set_.json()["state"], maintenance["until"], maintenance["reason"], maintenance["by"]) == (
        "maintenance", _iso(until), reason, "ops-admin"
    )  # fmt: skip
    listed = {p["id"]: p for p in client.get("/api/v1/publishers", headers=keys["read"]).json()}
    assert listed[counter]["state"] == "maintenance"

    ended = client.delete(f"/api/v1/publishers/{counter}/maintenance", headers=keys["admin"])
    assert (ended.status_code, ended.json()["state"], ended.json()["maintenance"]) == (200, "active", None)
    again = client.delete(f"/api/v1/publishers/{counter}/maintenance", headers=keys["admin"])
    assert (again.status_code, again.json()["state"]) == (200, "active")  # nothing to end: unchanged
    actions = client.get(f"/api/v1/publishers/{counter}/actions", headers=keys["read"]).json()
    assert [(a["action"], a["actor"]) for a in actions] == [
        ("maintenance_ended", "ops-admin"), ("maintenance_set", "ops-admin")
    ]  # fmt: skip
    assert actions[1]["detail"] == f"until {until.isoformat()}: {reason}"
    stack.mosquitto.accounts.delete(counter)


def test_bad_maintenance_requests_are_refused_with_nothing_changed(
    client: httpx.Client, stack: LocalStack, keys: dict[str, dict[str, str]], db: psycopg.Connection[tuple[object, ...]]
) -> None:
    counter = unique_publisher_id("counter")
    client.post(
        "/api/v1/publishers", json={"id": counter, "source": "payments", "area_code": "24611"}, headers=keys["admin"]
    )
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    route = f"/api/v1/publishers/{counter}/maintenance"
    for body, status, message in (
        ({"until": "2020-01-01T00:00:00Z", "reason": "x"}, 400, "2020-01-01T00:00:00+00:00 is not in the future"),
        ({"until": "next friday", "reason": "x"}, 400, "must be an RFC 3339 date-time"),
        ({"until": "2026-12-31T10:00:00", "reason": "x"}, 400, "has no UTC offset"),
        ({"until": "2099-01-01T00:00:00Z", "reason": "x"}, 400, "is more than 366 days ahead"),
        ({"until": soon, "reason": "x" * 10_240}, 400, "the reason has 10240 characters; at most 500 are kept"),
        ({"until": soon, "reason": "ok\nALERT: all resolved"}, 400, "must not contain control characters"),
        ({"until": soon, "reason": "\x1b[2J\x1b[32mfine"}, 400, "must not contain control characters"),
        ({"until": soon, "reason": ""}, 400, "a reason is required"),
        ({"until": soon}, 400, "reason"),
        ({"until": soon, "reason": "x", "by": "someone-else"}, 400, "by"),
    ):
        refused = client.put(route, json=body, headers=keys["admin"])
        assert refused.status_code == status, (body, refused.text)
        assert refused.json()["error"]["code"] == "invalid_request"
        assert message in refused.json()["error"]["message"], (body, refused.json())
    unknown = client.put("/api/v1/publishers/nobody-here/maintenance", json={"until": soon, "reason": "x"},
                         headers=keys["admin"])  # fmt: skip
    assert (unknown.status_code, unknown.json()["error"]) == (
        404, {"code": "not_found", "message": "publisher nobody-here does not exist"}
    )  # fmt: skip
    assert client.delete("/api/v1/publishers/nobody-here/maintenance", headers=keys["admin"]).status_code == 404
    row = db.execute("SELECT maintenance_until FROM publishers WHERE id = %s", (counter,)).fetchone()
    assert row == (None,)
    assert db.execute("SELECT count(*) FROM publisher_actions").fetchone() == (0,)
    stack.mosquitto.accounts.delete(counter)


def test_disable_and_enable_follow_the_broker_and_are_recorded(
    client: httpx.Client,
    stack: LocalStack,
    keys: dict[str, dict[str, str]],
    mqtt_clients: list[BlockingClient],
) -> None:
    kiosk = unique_publisher_id("kiosk")
    created = client.post(
        "/api/v1/publishers", json={"id": kiosk, "source": "payments", "area_code": "24611"}, headers=keys["admin"]
    ).json()
    password = created["mqtt_password"]
    disabled = client.post(f"/api/v1/publishers/{kiosk}/disable", json={"reason": "replaced"}, headers=keys["admin"])
    assert (disabled.status_code, disabled.json()["state"], disabled.json()["silent"]) == (200, "disabled", False)
    refused = open_client(stack, kiosk, password)
    mqtt_clients.append(refused)
    assert refused.wait_connected().getName() == "Not authorized"

    enabled = client.post(f"/api/v1/publishers/{kiosk}/enable", headers=keys["admin"])
    assert (enabled.status_code, enabled.json()["state"], enabled.json()["disabled_at"]) == (200, "onboarding", None)
    accepted = open_client(stack, kiosk, password)  # its old password works again
    mqtt_clients.append(accepted)
    assert not accepted.wait_connected().is_failure
    actions = client.get(f"/api/v1/publishers/{kiosk}/actions", headers=keys["read"]).json()
    assert [(a["action"], a["detail"]) for a in actions] == [("enabled", ""), ("disabled", "replaced")]
    assert client.post("/api/v1/publishers/nobody-here/enable", headers=keys["admin"]).status_code == 404
    bad = client.post(f"/api/v1/publishers/{kiosk}/disable", json={"reason": "a\tb"}, headers=keys["admin"])
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")
    assert client.get(f"/api/v1/publishers/{kiosk}", headers=keys["read"]).json()["state"] == "onboarding"
    stack.mosquitto.accounts.delete(kiosk)


def test_silent_after_is_set_and_reset_and_shown(
    client: httpx.Client, stack: LocalStack, keys: dict[str, dict[str, str]], db: psycopg.Connection[tuple[object, ...]]
) -> None:
    probe = unique_publisher_id("probe")
    client.post(
        "/api/v1/publishers", json={"id": probe, "source": "coverage", "area_code": "24611"}, headers=keys["admin"]
    )
    # Heard from 20 minutes ago, its last will says online: silent by the default 900 s, not by its own 2 h.
    heard = datetime.now(UTC) - timedelta(minutes=20)
    db.execute("UPDATE publishers SET first_message_at = %s, last_message_at = %s WHERE id = %s", (heard, heard, probe))
    db.execute("INSERT INTO publisher_status (at, publisher_id, state, received_at) VALUES (%s, %s, 'online', %s)",
               (heard, probe, heard))  # fmt: skip
    shown = client.get(f"/api/v1/publishers/{probe}", headers=keys["read"]).json()
    assert (shown["status"], shown["last_status"], shown["silent_after_seconds"], shown["silent_after_default"]) == (
        "silent", "online", 900, True
    )  # fmt: skip
    own = client.put(f"/api/v1/publishers/{probe}/silent-after", json={"seconds": 7200}, headers=keys["admin"])
    assert (own.json()["status"], own.json()["silent"], own.json()["silent_after_seconds"]) == ("online", False, 7200)
    reset = client.put(f"/api/v1/publishers/{probe}/silent-after", json={"seconds": None}, headers=keys["admin"])
    assert (reset.json()["status"], reset.json()["silent_after_default"]) == ("silent", True)
    for seconds in (0, -5, 31 * 86_400 + 1, "30m", 1.5):
        bad = client.put(f"/api/v1/publishers/{probe}/silent-after", json={"seconds": seconds}, headers=keys["admin"])
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request"), seconds
    missing = client.put("/api/v1/publishers/nobody-here/silent-after", json={"seconds": 60}, headers=keys["admin"])
    assert missing.status_code == 404
    actions = client.get(f"/api/v1/publishers/{probe}/actions", headers=keys["read"]).json()
    assert [a["detail"] for a in actions] == ["default", "7200 s"]
    stack.mosquitto.accounts.delete(probe)


def _open_alert(db: psycopg.Connection[tuple[object, ...]], rule: str, area: str) -> int:
    """An open alert as the engine stores it (streams.alerts.store), mute decided by the same function."""
    row = db.execute(
        "INSERT INTO alerts (rule_id, kpi, area_code, window_name, severity, state, message, value, opened_at,"
        " muted_by) VALUES (%s, 'ops.publishers_silent', %s, 'now', 'major', 'open', 'silent', 1, now(),"
        " alert_mute_of(%s, %s, now())) RETURNING id",
        (rule, area, rule, area),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_a_mute_marks_the_alerts_it_covers_and_removing_it_unmarks_them(
    client: httpx.Client, keys: dict[str, dict[str, str]], db: psycopg.Connection[tuple[object, ...]]
) -> None:
    village = _open_alert(db, "publisher-silent", "24615-04")  # a village of commune 24615
    other = _open_alert(db, "publisher-silent", "24611")
    until = datetime.now(UTC) + timedelta(hours=6)
    body = {"rule_id": "publisher-silent", "area_code": "24615", "until": until.isoformat(), "reason": "fibre cut"}
    assert client.post("/api/v1/alert-mutes", json=body, headers=keys["read"]).status_code == 403
    made = client.post("/api/v1/alert-mutes", json=body, headers=keys["operate"])
    assert made.status_code == 201, made.text
    mute = made.json()
    assert (mute["created_by"], mute["in_force"], mute["removed_at"]) == ("ops-operate", True, None)
    later = _open_alert(db, "publisher-silent", "24615")  # opened while the mute is in force: muted from the start

    def muted() -> dict[int, tuple[bool, int | None]]:
        alerts = client.get("/api/v1/alerts", headers=keys["read"]).json()
        return {a["id"]: (a["muted"], a["muted_by"]) for a in alerts}

    assert muted() == {village: (True, mute["id"]), other: (False, None), later: (True, mute["id"])}
    assert [m["id"] for m in client.get("/api/v1/alert-mutes", headers=keys["read"]).json()] == [mute["id"]]

    removed = client.delete(f"/api/v1/alert-mutes/{mute['id']}", headers=keys["operate"])
    assert (removed.status_code, removed.json()["removed_by"], removed.json()["in_force"]) == (
        200,
        "ops-operate",
        False,
    )
    assert muted() == {village: (False, None), other: (False, None), later: (False, None)}
    assert client.get("/api/v1/alert-mutes", headers=keys["read"]).json() == []
    kept = client.get("/api/v1/alert-mutes?include_ended=true", headers=keys["read"]).json()
    assert [(m["id"], m["reason"], m["created_by"], m["removed_by"]) for m in kept] == [
        (mute["id"], "fibre cut", "ops-operate", "ops-operate")
    ]
    twice = client.delete(f"/api/v1/alert-mutes/{mute['id']}", headers=keys["operate"])
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "conflict")
    assert client.delete("/api/v1/alert-mutes/999999", headers=keys["operate"]).status_code == 404


def test_bad_mutes_are_refused(client: httpx.Client, keys: dict[str, dict[str, str]]) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for body, message in (
        ({"until": soon, "reason": "x"}, "a mute needs a rule, an area, or both"),
        ({"rule_id": "no-such-rule", "until": soon, "reason": "x"}, "there is no alert rule 'no-such-rule'"),
        ({"area_code": "99999", "until": soon, "reason": "x"}, "area '99999' is not in the areas table"),
        ({"area_code": "24615", "until": "2020-01-01T00:00:00Z", "reason": "x"}, "is not in the future"),
        ({"area_code": "24615", "until": soon, "reason": "y" * 10_240}, "at most 500 are kept"),
        ({"area_code": "24615", "until": soon, "reason": "a\x07b"}, "must not contain control characters"),
        ({"area_code": "24615; DROP TABLE alerts", "until": soon, "reason": "x"}, "area_code"),
    ):
        refused = client.post("/api/v1/alert-mutes", json=body, headers=keys["operate"])
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_request"), body
        assert message in refused.json()["error"]["message"], (body, refused.json())
    assert client.get("/api/v1/alert-mutes?include_ended=true", headers=keys["read"]).json() == []
