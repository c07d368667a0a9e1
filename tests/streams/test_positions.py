"""Gap detection on the stored-events stream (pure logic)."""

from __future__ import annotations

from streams.engine.positions import Position, ProducerPositions


def test_consecutive_batches_continue_and_a_jump_is_a_gap() -> None:
    positions = ProducerPositions({"ioc-ingest": Position("s1", 41)})
    assert positions.check("ioc-ingest", Position("s1", 42)) == "next"
    assert positions.check("ioc-ingest", Position("s1", 42)) == "seen"
    assert positions.check("ioc-ingest", Position("s1", 44)) == "gap"
    assert positions.check("ioc-ingest", Position("s1", 43)) == "next"  # a gap does not move the position


def test_a_new_session_continues_only_after_a_clean_end() -> None:
    clean = ProducerPositions({"ioc-ingest": Position("s1", 9, final=True)})
    assert clean.check("ioc-ingest", Position("s2", 1)) == "next"
    crashed = ProducerPositions({"ioc-ingest": Position("s1", 9)})
    assert crashed.check("ioc-ingest", Position("s2", 1)) == "gap"
    late_start = ProducerPositions({"ioc-ingest": Position("s1", 9, final=True)})
    assert late_start.check("ioc-ingest", Position("s2", 2)) == "gap"  # its first batch never reached us


def test_a_producer_never_seen_must_start_at_its_first_batch() -> None:
    positions = ProducerPositions()
    assert positions.check("ioc-ingest-2", Position("s9", 1)) == "next"
    assert ProducerPositions().check("ioc-ingest-3", Position("s9", 5)) == "gap"


def test_positions_read_from_the_producers_hash() -> None:
    positions = ProducerPositions.from_hash({b"ioc-ingest": b"abc:7:final", b"ioc-ingest-2": b"def:3"})
    assert positions.check("ioc-ingest", Position("new", 1)) == "next"
    assert positions.check("ioc-ingest-2", Position("def", 4)) == "next"
