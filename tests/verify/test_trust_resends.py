"""Re-sent event ids through the real broker and two `ioc ingest` processes sharing the stream: the same
decoded event again is stored once, whatever its bytes; the same id with another body or another time is
a dead letter `conflicting_duplicate` that names the stored row, which stays as it was."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deploy.stack.manager import LocalStack
from deploy.stack.mosquitto import clear_session
from ingest.broker.roles import ServiceRole
from ingest.contract import RejectReason
from tests import factories
from tests.fixtures.ingest import IngestAccount, spawn_ingest
from tests.fixtures.mqtt import unique_publisher_id
from tests.fixtures.stack import IsolatedDatabase
from tests.fixtures.verify import VerifyProfile
from tests.verify.conftest import IngestPath
from tests.verify.report import ScenarioResult
from tests.verify.trust import Register, Sender, accounted, respelled, send, settle

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

CONFLICT = RejectReason.CONFLICTING_DUPLICATE


@pytest.fixture
def second_worker(stack: LocalStack, ingest_account: IngestAccount) -> Iterator[IngestAccount]:
    """Another ingest account in the same shared group, as `ioc ingest --workers 2` runs them."""
    account = IngestAccount(unique_publisher_id("ingest"), "pw-" + uuid.uuid4().hex, ingest_account.group)
    stack.mosquitto.accounts.set_service_account(account.username, account.password, ServiceRole.INGEST)
    yield account
    clear_session(stack.settings.mqtt_port, account.username, account.password)
    stack.mosquitto.accounts.delete(account.username)


def test_a_resent_id_is_stored_once_or_is_a_conflicting_duplicate(
    stack: LocalStack,
    database: IsolatedDatabase,
    ingest_path: IngestPath,
    second_worker: IngestAccount,
    register: Register,
    scenario: ScenarioResult,
    profile: VerifyProfile,
    tmp_path: Path,
) -> None:
    originals = profile.pick(fast=200, full=4_000)
    scenario.scenario = (
        "Trust: a re-sent id with another body or time is a conflicting_duplicate; equal re-sends stored once"
    )
    scenario.load = (
        f"{originals:,} events, then each sent again (same bytes; keys reordered and time respelled; another "
        f"amount; another time) beside {originals // 2:,} new events sent twice at once and {originals // 2:,} "
        "ids sent at once with two bodies; 2 ingest processes sharing the stream"
    )
    rng = random.Random(20)
    now = datetime.now(UTC)
    counter, racer = register("counter", "payments", "67"), register("racer", "payments", "67")
    workers = [spawn_ingest(stack, database, account) for account in (ingest_path.account, second_worker)]
    ingest_path.started.extend(workers)  # killed at teardown if a check fails first
    stored: dict[str, factories.Json] = {}
    for _ in range(originals):
        body = counter.body(at=now - timedelta(minutes=rng.uniform(1, 600)), amount_vnd=rng.randrange(1, 10**6) * 1000)
        stored[str(body["event_id"])] = body
        counter.add(body)
    ledgers = send(stack, [counter], seconds=profile.pick(fast=2, full=20), ledgers=tmp_path)
    settle(database, [counter], originals, 0)

    conflicts = resend(counter, list(stored.values()))
    equal = originals // 2 + originals // 2
    for _ in range(originals // 2):  # new, and at once again: the two copies may meet in two processes
        body = counter.body()
        stored[str(body["event_id"])] = body
        counter.add(body)
        counter.add_raw(respelled(body), None, str(body["event_id"]))
    pairs = race(racer, originals // 2)
    ledgers += send(stack, [counter, racer], seconds=profile.pick(fast=3, full=30), ledgers=tmp_path)
    settle(database, [counter, racer], len(stored) + len(pairs), conflicts + len(pairs))
    for worker in workers:
        assert worker.terminate() == 0

    result = accounted(database, [path for path in ledgers if not path.name.startswith(f"{racer.id}-")])
    unchanged, named = check_stored_rows(database, counter, stored)
    once, first_won = check_races(database, racer, pairs)
    scenario.lost, scenario.duplicated = result.lost, result.duplicated_rows
    scenario.measure("equal re-sends (bytes, or keys and time spelled otherwise), rows added", f"{equal:,}, 0")
    scenario.measure("conflicting re-sends dead-lettered, naming the stored row", f"{named:,} of {conflicts:,}")
    scenario.measure("stored rows unchanged", f"{unchanged:,} of {len(stored):,}")
    scenario.measure(
        "ids sent at once with two bodies: stored once, the other a dead letter", f"{once:,} of {len(pairs):,}"
    )
    scenario.measure("of them won by the copy sent first", first_won)
    assert result.exact, result.summary()
    assert result.unconfirmed == 0, result.summary()
    assert result.dead_lettered_as_expected == conflicts == named, result.summary()
    assert unchanged == len(stored)
    assert once == len(pairs)


def resend(counter: Sender, bodies: list[factories.Json]) -> int:
    """Each stored event again, in one of four ways; returns how many must be conflicting duplicates."""
    conflicts = 0
    for i, body in enumerate(bodies):
        event_id = str(body["event_id"])
        if i % 4 == 0:  # the very bytes again: a publisher's retry, a redelivery
            counter.add_raw(factories.encode(body), None, event_id)
        elif i % 4 == 1:  # the same event in other bytes
            counter.add_raw(respelled(body), None, event_id)
        elif i % 4 == 2:  # as seen: the same time and another body was dropped silently, only a counter moved
            counter.add(body | {"amount_vnd": int(str(body["amount_vnd"])) + 1000}, CONFLICT, joined=False)
            conflicts += 1
        else:  # as seen: another occurred_at was stored a second time and counted twice
            later = datetime.fromisoformat(str(body["occurred_at"])) + timedelta(seconds=1)
            counter.add(body | {"occurred_at": later.isoformat()}, CONFLICT, joined=False)
            conflicts += 1
    return conflicts


def race(racer: Sender, count: int) -> list[tuple[factories.Json, factories.Json]]:
    """Ids sent twice back to back with two bodies: whichever commits first is stored. Not in the
    ledgers (the accounting expects one answer); `check_races` judges them."""
    pairs = []
    for _ in range(count):
        first = racer.body()
        pairs.append((first, first | {"amount_vnd": 7_000}))
        for body in pairs[-1]:
            racer.add_raw(factories.encode(body), None, "")
    return pairs


def check_stored_rows(
    database: IsolatedDatabase, counter: Sender, stored: dict[str, factories.Json]
) -> tuple[int, int]:
    """How many stored rows are exactly what was first sent, and how many dead letters name their row."""
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT event_id::text, occurred_at, amount_vnd FROM payment_transactions WHERE publisher_id = %s",
            (counter.id,),
        ).fetchall()
        details = conn.execute(
            "SELECT payload, detail FROM dead_letters WHERE publisher_id = %s AND reason = %s", (counter.id, CONFLICT)
        ).fetchall()
    unchanged = sum(
        (at, amount) == (datetime.fromisoformat(str(stored[str(i)]["occurred_at"])), stored[str(i)]["amount_vnd"])
        for i, at, amount in rows
        if str(i) in stored
    )
    named = 0
    for payload, detail in details:
        original = stored[str(json.loads(bytes(payload))["event_id"])]
        at = datetime.fromisoformat(str(original["occurred_at"])).astimezone(UTC).isoformat()
        named += f"already stored: transaction, occurred_at {at}, received_at " in str(detail)
    return unchanged, named


def check_races(
    database: IsolatedDatabase, racer: Sender, pairs: list[tuple[factories.Json, factories.Json]]
) -> tuple[int, int]:
    """Pairs with exactly one row (one of the two bodies) and the other body as its one dead letter;
    and how many of them the first-sent body won."""
    with database.connect() as conn:
        rows = dict(
            conn.execute(
                "SELECT event_id::text, array_agg(amount_vnd) FROM payment_transactions WHERE publisher_id = %s"
                " GROUP BY 1",
                (racer.id,),
            ).fetchall()
        )
        letters = {
            bytes(p): str(r)
            for p, r in conn.execute("SELECT payload, reason FROM dead_letters WHERE publisher_id = %s", (racer.id,))
        }
    once = first_won = 0
    for first, second in pairs:
        amounts = rows.get(str(first["event_id"]), [])
        if len(amounts) != 1 or amounts[0] not in (first["amount_vnd"], second["amount_vnd"]):
            continue
        winner, loser = (first, second) if amounts[0] == first["amount_vnd"] else (second, first)
        if letters.get(factories.encode(loser)) == CONFLICT.value and factories.encode(winner) not in letters:
            once += 1
            first_won += winner is first
    return once, first_won
