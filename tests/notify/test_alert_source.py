"""What the alerts table gives the outbox: each event once, in order, muted alerts left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.outbox import OutboxRepository
from notify.sources import AlertSource, EscalationSource
from streams.alerts.mutes import MuteRepository
from tests.fixtures.notify import acknowledge_alert, open_alert, resolve_alert, some_village

pytestmark = pytest.mark.integration

Connection = psycopg.Connection[tuple[object, ...]]


def _read(db: Connection, source: AlertSource) -> list[str]:
    """One pass of the notifier's source loop; the keys it wrote."""
    with db.transaction():
        found = source.pending(db, 100)
        OutboxRepository(db).write(found, ["webhook:bot"])
    return [n.key for n in found]


def test_each_event_is_written_once_and_in_the_order_it_happened(db: Connection) -> None:
    source = AlertSource("https://ioc.example.vn/console/", lookback_seconds=3600)
    area = some_village(db)
    quick = open_alert(db, area, rule_id="r.quick")
    acknowledge_alert(db, quick)
    resolve_alert(db, quick)  # opened, acknowledged and resolved between two reads
    slow = open_alert(db, area, rule_id="r.slow")
    assert _read(db, source) == [
        f"ioc:alert:{quick}:opened", f"ioc:alert:{slow}:opened",
        f"ioc:alert:{quick}:acknowledged", f"ioc:alert:{quick}:resolved",
    ]  # fmt: skip
    assert _read(db, source) == []  # nothing new: nothing written twice
    resolve_alert(db, slow)
    assert _read(db, source) == [f"ioc:alert:{slow}:resolved"]
    ids = db.execute("SELECT idempotency_key FROM notification_outbox ORDER BY id").fetchall()
    # The outbox keeps each alert's events in order (its ids), whatever order alerts interleave in.
    assert [k for (k,) in ids if str(k).startswith(f"ioc:alert:{quick}:")] == [
        f"ioc:alert:{quick}:opened", f"ioc:alert:{quick}:acknowledged", f"ioc:alert:{quick}:resolved",
    ]  # fmt: skip
    firing = source.firing(db)
    assert firing == []  # both resolved
    url = db.execute("SELECT payload->>'url' FROM notification_outbox ORDER BY id LIMIT 1").fetchone()
    assert url == (f"https://ioc.example.vn/console#alert={quick}",)


def test_alerts_resolved_before_the_lookback_are_not_told(db: Connection) -> None:
    source = AlertSource("https://ioc.example.vn/console", lookback_seconds=60)
    old = open_alert(db, some_village(db), rule_id="r.old")
    db.execute("UPDATE alerts SET state = 'resolved', resolved_at = now() - interval '2 minutes' WHERE id = %s", (old,))
    assert _read(db, source) == []


def test_a_muted_alert_is_not_told(db: Connection) -> None:
    source = AlertSource("https://ioc.example.vn/console", lookback_seconds=3600)
    area = some_village(db)
    muted, heard = open_alert(db, area, rule_id="publisher-silent"), open_alert(db, area, rule_id="r.heard")
    now = datetime.now(UTC)
    MuteRepository(db).create(
        "publisher-silent", None, now + timedelta(hours=2), "new counters", actor="ops-anh", now=now
    )
    assert db.execute("SELECT muted_by IS NOT NULL FROM alerts WHERE id = %s", (muted,)).fetchone() == (True,)
    assert _read(db, source) == [f"ioc:alert:{heard}:opened"]
    assert [n.key for n in source.firing(db)] == [f"ioc:alert:{heard}:firing"]
    resolve_alert(db, muted)  # never told it opened: not told it resolved
    assert _read(db, source) == []


def test_an_incident_nobody_acknowledged_is_told_again_at_each_escalation(db: Connection) -> None:
    source = EscalationSource("https://ioc.example.vn/console", lookback_seconds=3600)
    area = some_village(db)
    alert_id = open_alert(db, area)
    row = db.execute(
        "INSERT INTO incidents (rule_id, kpi, area_code, key_lineage, severity, state, opened_at, changed_at)"
        " VALUES ('ops.publishers_silent', 'ops.publishers_silent', %s, ARRAY[%s], 'major', 'open', now(), now())"
        " RETURNING id",
        (area, area),
    ).fetchone()
    assert row is not None
    incident = int(str(row[0]))
    db.execute("UPDATE alerts SET incident_id = %s WHERE id = %s", (incident, alert_id))
    assert _read(db, source) == []  # not escalated yet
    db.execute("UPDATE incidents SET escalations = 1, escalated_at = now() WHERE id = %s", (incident,))
    assert _read(db, source) == [f"ioc:incident:{incident}:escalation:1"]
    assert _read(db, source) == []  # told once per escalation
    db.execute("UPDATE incidents SET escalations = 2, escalated_at = now() WHERE id = %s", (incident,))
    (told,) = source.pending(db, 10)
    assert told.key == f"ioc:incident:{incident}:escalation:2"
    assert told.payload["text_vi"].endswith("(chưa ai tiếp nhận, nhắc lại lần 2)")
    assert told.payload["url"] == f"https://ioc.example.vn/console#incident={incident}"
    assert told.payload["labels"]["escalation"] == "2"
    db.execute(
        "UPDATE incidents SET state = 'acknowledged', acknowledged_at = now(), acknowledged_by = 'x' WHERE id = %s",
        (incident,),
    )
    assert source.pending(db, 10) == []  # acknowledged meanwhile: nobody is woken for it


def test_an_acknowledged_alert_still_firing_says_so_in_vietnamese(db: Connection) -> None:
    source = AlertSource("https://ioc.example.vn/console", lookback_seconds=3600)
    alert_id = open_alert(db, some_village(db))
    db.execute("UPDATE alerts SET value = 'NaN' WHERE id = %s", (alert_id,))
    acknowledge_alert(db, alert_id)
    (firing,) = source.firing(db)
    assert firing.payload["text_vi"].endswith(" — đã tiếp nhận")
    assert firing.payload["alert"]["value"] is None  # NaN has no JSON
    _read(db, source)  # a NaN value is written to the jsonb payload as null, not refused
