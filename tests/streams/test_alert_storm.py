"""One cause, one incident, against the real chain (publishers over MQTT → ingest → KPI engine → database → API):
eight publishers of one commune fall silent at once; on-call sees ONE incident of the commune holding its
eight alerts, each named in Vietnamese and English with the silent publisher, acknowledges it once with a
comment, and watches it shrink when one publisher comes back."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from api.http.auth.keys import ApiKeyRepository, Scope
from ingest.service.stored_events_publisher import StoredEventsPublisher
from streams.alerts.incidents import IncidentPolicy
from streams.alerts.rules import DEFAULT_RULES_FILE, load_rules
from streams.catalog import CATALOG
from tests import factories
from tests.fixtures.api import bearer
from tests.fixtures.ingest import Publisher, RunningIngest, wait_for
from tests.fixtures.streams import RunningEngine

pytestmark = pytest.mark.integration

COMMUNE = "24615"  # Phường Nghĩa Tân, Gia Nghĩa: seven residential groups and villages below it
VILLAGES = [f"{COMMUNE}-0{n}" for n in range(1, 8)]
ESCALATE_AFTER_SECONDS = 2
SILENT_AFTER_SECONDS = 8  # each sends one event 5 s old (tests.factories): silent 3 s later


def one(db: psycopg.Connection[tuple[object, ...]], query: str) -> int:
    row = db.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(str(row[0]))


def test_eight_silent_publishers_of_one_commune_are_one_incident_with_eight_alerts(
    db: psycopg.Connection[tuple[object, ...]],
    redis_url: str,
    start_ingest: Callable[..., RunningIngest],
    start_engine: Callable[..., RunningEngine],
    register_publisher: Callable[..., Publisher],
    client: httpx.Client,
) -> None:
    read = bearer(ApiKeyRepository(db).create("wall", Scope.READ))
    operate = bearer(ApiKeyRepository(db).create("on-call", Scope.OPERATE))
    # One payment counter at the ward's office and one in each of its seven villages.
    counters = {area: register_publisher("payments", area) for area in [COMMUNE, *VILLAGES]}
    db.execute("UPDATE publishers SET silent_after_seconds = %s", (SILENT_AFTER_SECONDS,))
    start_ingest(stored_events=StoredEventsPublisher(redis_url, producer="ingest-under-test"))
    for area, counter in counters.items():  # each sends once, then the link of the whole ward goes down
        info = counter.client.client.publish(
            counter.topic("transaction"), factories.encode(factories.transaction(area_code=area)), qos=1
        )
        info.wait_for_publish(10)
    assert wait_for(lambda: one(db, "SELECT count(*) FROM payment_transactions") == 8)
    silent_rule = [
        r for r in load_rules(DEFAULT_RULES_FILE, [k.id for k in CATALOG.kpis]) if r.id == "publisher-silent"
    ]
    start_engine(rules=silent_rule, incidents=IncidentPolicy(escalate_after_seconds=ESCALATE_AFTER_SECONDS))

    def get(path: str, **params: object) -> Any:
        answer = client.get(path, params=params, headers=read)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def storm_settled() -> bool:
        alerts = get("/api/v1/alerts", state="open")
        return len(alerts) == 8 and all(a["incident_id"] is not None for a in alerts)

    assert wait_for(storm_settled, timeout=30), get("/api/v1/alerts")
    [incident] = get("/api/v1/incidents")
    assert (incident["rule_id"], incident["area_code"], incident["state"]) == ("publisher-silent", COMMUNE, "open")
    assert (incident["members"], incident["open_members"]) == (8, 8)
    assert incident["summary"] == {"vi": "8 cảnh báo: 1 xã, 7 thôn", "en": "8 alerts: 1 commune, 7 villages"}
    # Nobody acknowledges it: the engine marks it due for notification again, every ESCALATE_AFTER_SECONDS.
    assert wait_for(lambda: get(f"/api/v1/incidents/{incident['id']}")["escalations"] >= 1, timeout=15)
    escalated = get(f"/api/v1/incidents/{incident['id']}")
    assert escalated["escalated_at"] is not None
    assert escalated["escalate_after"] > escalated["escalated_at"]
    detail = get(f"/api/v1/incidents/{incident['id']}")
    members = {a["area_code"]: a for a in detail["alerts"]}
    assert set(members) == {COMMUNE, *VILLAGES}
    # Each village's alert names its own silent counter; the ward's names all eight.
    for village in VILLAGES:
        assert members[village]["publisher_id"] == counters[village].id
        assert members[village]["publishers"] == [counters[village].id]
        assert (members[village]["value"], members[village]["threshold"]) == (1, 0)
    assert sorted(members[COMMUNE]["publishers"]) == sorted(c.id for c in counters.values())
    assert members[COMMUNE]["publisher_id"] is None
    four = members[f"{COMMUNE}-04"]
    assert [a["code"] for a in four["area_path"]] == ["67", "660", COMMUNE, f"{COMMUNE}-04"]
    assert four["messages"]["vi"].startswith("1 nguồn phát ở Phường Nghĩa Tân › Tổ dân phố 4 không gửi dữ liệu từ ")
    assert four["messages"]["vi"].endswith(f": {counters[f'{COMMUNE}-04'].id}")
    assert four["messages"]["en"].startswith(
        "1 publisher in Nghia Tan Ward › Residential Group 4 has sent nothing since "
    )
    assert incident["messages"] == members[COMMUNE]["messages"]
    assert members[COMMUNE]["messages"]["en"].startswith("8 publishers in Nghia Tan Ward have sent nothing since ")

    # Acknowledged once, with a comment: the incident and its eight alerts, each with the comment in its history.
    comment = "Mất điện cả phường, đã báo điện lực"
    refused = client.post(f"/api/v1/incidents/{incident['id']}/acknowledge", json={"comment": comment}, headers=read)
    assert refused.status_code == 403
    acked = client.post(f"/api/v1/incidents/{incident['id']}/acknowledge", json={"comment": comment}, headers=operate)
    assert acked.status_code == 200, acked.text
    assert (acked.json()["state"], acked.json()["acknowledged_by"], acked.json()["ack_comment"]) == (
        "acknowledged", "on-call", comment,
    )  # fmt: skip
    assert {(a["state"], a["ack_comment"]) for a in acked.json()["alerts"]} == {("acknowledged", comment)}
    history = get(f"/api/v1/alerts/{members[VILLAGES[0]]['id']}/history")
    assert [(h["state"], h["actor"], h["detail"]) for h in history][-1] == ("acknowledged", "on-call", comment)
    again = client.post(f"/api/v1/incidents/{incident['id']}/acknowledge", headers=operate)
    assert again.status_code == 404  # no longer open
    escalations = acked.json()["escalations"]
    time.sleep(ESCALATE_AFTER_SECONDS + 1)  # acknowledged: no longer escalated
    assert get(f"/api/v1/incidents/{incident['id']}")["escalations"] == escalations

    # One village's counter comes back: its alert resolves and the incident shrinks, still one.
    back = counters[VILLAGES[2]]
    back.client.client.publish(
        back.topic("transaction"),
        factories.encode(factories.transaction(area_code=VILLAGES[2], at=datetime.now(UTC))),
        qos=1,
    ).wait_for_publish(10)
    assert wait_for(lambda: get(f"/api/v1/incidents/{incident['id']}")["open_members"] == 7, timeout=20)
    [still] = get("/api/v1/incidents")
    assert (still["id"], still["summary"]["en"]) == (incident["id"], "7 alerts: 1 commune, 6 villages")
    changes = [h["change"] for h in get(f"/api/v1/incidents/{incident['id']}")["history"]]
    assert (changes.count("opened"), changes.count("acknowledged"), changes[-1]) == (1, 1, "left")
