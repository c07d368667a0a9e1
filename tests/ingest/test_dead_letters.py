"""Dead letters are listed with their reasons and can be replayed once the cause is fixed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from deploy.stack.manager import LocalStack
from ingest.dead_letters import DeadLetterNotFound, DeadLetterRepository, ReplayOutcome, replay_dead_letter
from ingest.registry.areas import import_areas
from tests import factories
from tests.fixtures.ingest import Publisher, RunningIngest, count_rows, wait_for
from tests.fixtures.stack import IsolatedDatabase, cli_environment

pytestmark = pytest.mark.integration


def test_replay_after_the_missing_area_is_added(
    stack: LocalStack,
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest()
    coverage = register_publisher("coverage", "24667")  # a commune's probe reports for its villages
    new_village = factories.sample(area_code="24667-50")
    coverage.client.publish(coverage.topic("sample"), factories.encode(new_village))
    coverage.client.publish(coverage.topic("sample"), factories.encode(factories.sample(area_code="nowhere")))
    assert wait_for(lambda: count_rows(database, "dead_letters") == 2)

    with database.connect() as conn:
        repository = DeadLetterRepository(conn)
        letters = repository.find(reason="unknown_area")
        assert [(d.reason, d.publisher_id, d.resolved_at) for d in letters] == [
            ("unknown_area", coverage.id, None),
            ("unknown_area", coverage.id, None),
        ]
        village, nowhere = sorted(letters, key=lambda d: d.id)
        header = "code,parent_code,level,unit_type,name_vi,name_en\n"
        import_areas(conn, header + "24667-50,24667,village,Bon,Bu Sir,Bon Bu Sir Village\n")

        def replay(dead_letter_id: int) -> ReplayOutcome:
            return replay_dead_letter(conn, dead_letter_id, factories.intake_rules())

        assert replay(village.id).status == "stored"
        assert replay(village.id).status == "already_resolved"
        assert replay(nowhere.id) == ReplayOutcome(
            nowhere.id, "rejected", "unknown_area: area_code nowhere is not a known area"
        )
        with pytest.raises(DeadLetterNotFound):
            replay(999_999)
        assert [d.id for d in repository.find()] == [nowhere.id]
        assert {d.id: d.last_replay_outcome for d in repository.find(include_resolved=True)} == {
            village.id: "stored",
            nowhere.id: "rejected: unknown_area",
        }
        stored = conn.execute("SELECT event_id::text, area_code FROM coverage_samples").fetchall()
    assert stored == [(new_village["event_id"], "24667-50")]

    env = cli_environment(stack, IOC_DATABASE_URL=database.url)
    listed = subprocess.run(
        [sys.executable, "-m", "cli", "dead-letters", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert len(listed) == 2
    assert listed[0].split()[0] == str(nowhere.id)
    assert "unknown_area" in listed[0]
    assert listed[1].strip() == "area_code nowhere is not a known area"
    replayed = subprocess.run(
        [sys.executable, "-m", "cli", "dead-letters", "replay", "--reason", "unknown_area"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert replayed.returncode == 1
    assert replayed.stdout == f"{nowhere.id}: rejected (unknown_area: area_code nowhere is not a known area)\n"


def test_replaying_an_event_that_was_stored_meanwhile_is_a_duplicate(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    start_ingest()
    payments = register_publisher("payments")
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = now() WHERE id = %s", (payments.id,))
    body = factories.transaction()
    payments.client.publish(payments.topic("transaction"), factories.encode(body))
    assert wait_for(lambda: count_rows(database, "dead_letters") == 1)
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = NULL WHERE id = %s", (payments.id,))
    payments.client.publish(payments.topic("transaction"), factories.encode(body))  # re-sent, now accepted
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)
    with database.connect() as conn:
        (letter,) = DeadLetterRepository(conn).find()
        outcome = replay_dead_letter(conn, letter.id, factories.intake_rules())
    assert outcome.status == "duplicate"
    assert count_rows(database, "payment_transactions") == 1


def test_replay_follows_the_live_rules_for_a_resent_id_and_an_old_event(
    database: IsolatedDatabase,
    start_ingest: Callable[..., RunningIngest],
    register_publisher: Callable[..., Publisher],
) -> None:
    """A dead letter whose id was meanwhile stored with other fields is a conflicting duplicate when
    replayed (the stored row stays); one whose time retention would no longer keep is too old now."""
    start_ingest()
    payments = register_publisher("payments")
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = now() WHERE id = %s", (payments.id,))
    body = factories.transaction(amount_vnd=100_000)
    payments.client.publish(payments.topic("transaction"), factories.encode(body))
    assert wait_for(lambda: count_rows(database, "dead_letters") == 1)
    with database.connect() as conn:
        conn.execute("UPDATE publishers SET disabled_at = NULL WHERE id = %s", (payments.id,))
    payments.client.publish(payments.topic("transaction"), factories.encode(body | {"amount_vnd": 200_000}))
    assert wait_for(lambda: count_rows(database, "payment_transactions") == 1)
    with database.connect() as conn:
        (letter,) = DeadLetterRepository(conn).find()
        outcome = replay_dead_letter(conn, letter.id, factories.intake_rules())
        assert outcome.status == "rejected"
        assert outcome.detail.startswith(f"conflicting_duplicate: event_id {body['event_id']} of publisher")
        assert [d.id for d in DeadLetterRepository(conn).find()] == [letter.id]  # still open, no new letter
        assert conn.execute("SELECT amount_vnd FROM payment_transactions").fetchall() == [(200_000,)]
        # An event of its arrival's day, 60 days ago: fine then, but older now than a 30-day retention
        # keeps, so the replay (which judges age as of now) refuses it.
        sixty_days_ago = datetime.now(UTC) - timedelta(days=60)
        conn.execute(
            "UPDATE dead_letters SET received_at = %s, payload = %s WHERE id = %s",
            (sixty_days_ago, factories.encode(factories.transaction(at=sixty_days_ago)), letter.id),
        )
        short_retention = replace(factories.intake_rules(), retention=timedelta(days=30))
        assert replay_dead_letter(conn, letter.id, short_retention).detail.startswith("too_old: occurred_at ")
