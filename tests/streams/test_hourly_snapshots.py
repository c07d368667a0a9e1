"""Which hours the history writer rolls into hourly snapshots, and when (pure logic, clock passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.engine.hourly_snapshots import HourlyRoller


def test_hours_are_rolled_once_ended_and_settled_and_again_after_a_failure() -> None:
    clock = [datetime(2026, 11, 26, 5, 1, tzinfo=UTC).timestamp()]
    roller = HourlyRoller(lambda: clock[0])
    hour = timedelta(hours=1)
    five = datetime(2026, 11, 26, 5, tzinfo=UTC)
    # 05:01: 04:00–05:00 has ended but its last minute may not be written yet; three hours back at start.
    assert roller.due() == [five - 4 * hour, five - 3 * hour, five - 2 * hour]
    clock[0] = datetime(2026, 11, 26, 5, 2, tzinfo=UTC).timestamp()
    assert roller.due() == [five - hour]
    assert roller.due() == []
    roller.failed(five - hour)
    clock[0] = datetime(2026, 11, 26, 7, 30, tzinfo=UTC).timestamp()
    assert roller.due() == [five - hour, five, five + hour]
