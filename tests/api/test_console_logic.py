"""The console's pure parts: the payload view (text or hex, 64 KiB), CSV cells safe from formulas, and the
status board's judgement of engine, ingest and epoch readings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from api.http.dead_letters.csv_rows import csv_chunks, safe_cell
from api.http.dead_letters.payload_view import SHOWN_BYTES, hex_dump, payload_view
from api.http.status.judgement import notification_item, redis_items, unreachable_redis_items, worst
from api.http.status.readings import DatabaseReadings, NotificationReadings, RedisReadings
from ingest.dead_letters import DeadLetterRecord

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_a_character_cut_at_64_kib_is_dropped_and_the_rest_is_text() -> None:
    payload = b"a" * (SHOWN_BYTES - 1) + "đ".encode() + b"tail"  # "đ" is 2 bytes: its first one is the 65536th
    view = payload_view(payload)
    assert (view.encoding, view.truncated, view.shown_bytes, view.content) == ("utf-8", True, SHOWN_BYTES, "a" * 65535)


def test_invalid_utf8_control_characters_and_a_lone_cut_character_are_binary() -> None:
    assert payload_view(b"ok \xff").encoding == "hex"
    assert payload_view(b"bell \x07").encoding == "hex"
    assert payload_view("x đ".encode()[:-1]).encoding == "hex"  # a complete payload ending halfway through "đ"
    assert payload_view("tab\tand\nnewline đ".encode()).content == "tab\tand\nnewline đ"
    assert payload_view(b"").content == ""
    assert hex_dump(b"AB\x00") == "00000000  41 42 00" + " " * 39 + "  |AB.|"


def test_cells_that_a_spreadsheet_would_run_are_made_text() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx", "a=b", None, 7)] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "a=b", "", "7",
    ]  # fmt: skip


def test_the_csv_comes_in_chunks_and_reads_back_exactly() -> None:
    records = [
        DeadLetterRecord(i, NOW, f"t/{i}", None, "not_json", 'say "hi",\nthen go', 3, None, None, None)
        for i in range(450)
    ]
    chunks = list(csv_chunks(records))
    assert len(chunks) == 3  # 200 rows to a chunk, then the rest
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert len(rows) == 451
    assert rows[1] == ["0", NOW.isoformat(), "t/0", "", "not_json", 'say "hi",\nthen go', "3", "", "", ""]


def _readings(**overrides: object) -> RedisReadings:
    base: dict[str, object] = {
        "heartbeat": NOW - timedelta(seconds=1), "epoch": "20261207T120000Z-abcdef", "engine_behind": 0,
        "engine_oldest_unapplied_ms": None, "last_stored_ms": int(NOW.timestamp() * 1000) - 2000,
        "live_clients": {"a": {"kpis": 2, "events": 1}, "b": {"kpis": 5}},
    }  # fmt: skip
    return RedisReadings(**(base | overrides))  # type: ignore[arg-type]


def _levels(readings: RedisReadings, heard: bool = True) -> dict[str, tuple[str, object]]:
    return {i.name: (i.level, i.value) for i in redis_items(readings, NOW, publishers_heard=heard)}


def test_the_engine_ingest_and_epoch_judged() -> None:
    assert _levels(_readings()) == {
        "engine": ("ok", 0.0), "engine_rebuild": ("ok", 10800), "ingest": ("ok", 2.0), "websocket_clients": ("ok", 8),
    }  # fmt: skip
    behind = _readings(engine_behind=40, engine_oldest_unapplied_ms=int(NOW.timestamp() * 1000) - 7500)
    assert _levels(behind)["engine"] == ("warning", 7.5)
    assert _levels(_readings(heartbeat=NOW - timedelta(seconds=30)))["engine"][0] == "problem"
    assert _levels(_readings(epoch="20261207T145500Z-abcdef"))["engine_rebuild"] == ("warning", 300)
    assert _levels(_readings(epoch="garbage"))["engine_rebuild"] == ("warning", None)
    quiet = _readings(last_stored_ms=int(NOW.timestamp() * 1000) - 120_000)
    assert (_levels(quiet)["ingest"], _levels(quiet, heard=False)["ingest"]) == (("warning", 120.0), ("ok", 120.0))


def test_redis_away_makes_its_items_problems() -> None:
    items = unreachable_redis_items("ConnectionError")
    assert [i.name for i in items] == ["engine", "engine_rebuild", "ingest", "websocket_clients"]
    assert {(i.level, i.reason) for i in items} == {("problem", "Redis cannot be read (ConnectionError)")}
    assert worst([i.level for i in items]) == "problem"
    assert worst(["ok", "warning"]) == "warning"
    assert worst([]) == "ok"


def test_notifications_judged_failed_first_then_a_receiver_far_behind() -> None:
    def judged(failed: dict[str, int], waiting: float | None) -> tuple[str, object]:
        item = notification_item(DatabaseReadings([], 0, NotificationReadings(failed, waiting)))
        return item.level, item.value

    assert judged({}, None) == ("ok", 0)
    assert judged({}, 299.0) == ("ok", 0)  # retrying for less than 5 minutes: on its way
    assert judged({}, 301.4) == ("warning", 301)
    assert judged({"alertmanager": 2, "webhook:bot": 1}, 900.0) == ("problem", 3)
