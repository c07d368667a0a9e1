"""Publishers online and silent per area, against the clock (pure logic)."""

from __future__ import annotations

from streams.hierarchy import AreaHierarchy
from streams.publishers import PublisherActivity
from streams.records import MICROS, PaymentRecord, StatusRecord
from tests.streams.kpi_data import NOW_US, PARENTS

HIERARCHY = AreaHierarchy.from_parents(PARENTS.items())
SILENT_AFTER = 900 * MICROS


def counts(activity: PublisherActivity) -> tuple[dict[str, int], dict[str, int]]:
    return activity.online.counts, activity.silent.counts


def test_online_follows_the_latest_status_and_silence_follows_the_clock() -> None:
    activity = PublisherActivity(HIERARCHY, SILENT_AFTER)
    activity.set_publishers({"counter-1": "24615-01", "counter-2": "24667", "probe-9": "24667-03"})
    activity.apply([
        StatusRecord("counter-1", NOW_US - 100 * MICROS, "online"),
        StatusRecord("counter-1", NOW_US - 200 * MICROS, "offline"),  # older: does not count
        PaymentRecord("counter-2", "24667", NOW_US - 800 * MICROS, 1, "water", "qr", 1000, "succeeded"),
        StatusRecord("probe-9", NOW_US - 50 * MICROS, "online"),
        StatusRecord("probe-9", NOW_US - 50 * MICROS, "offline"),  # a tie: offline wins
    ])  # fmt: skip
    activity.advance(NOW_US)
    online, silent = counts(activity)
    assert online == {"24615-01": 1, "24615": 1, "660": 1, "67": 1}
    assert silent == {}
    assert activity.online.last_event_at("67") == NOW_US - 50 * MICROS
    assert activity.silent.dirty >= {"24667", "663", "67"}

    activity.advance(NOW_US + 101 * MICROS)  # counter-2's last event is now 901 s old
    assert counts(activity)[1] == {"24667": 1, "663": 1, "67": 1}
    activity.advance(NOW_US + 1000 * MICROS)
    assert counts(activity)[1] == {"24667": 2, "663": 2, "67": 3, "24615-01": 1, "24615": 1, "660": 1,
                                   "24667-03": 1}  # fmt: skip


def test_unregistered_publishers_are_noted_and_never_counted() -> None:
    activity = PublisherActivity(HIERARCHY, SILENT_AFTER)
    activity.set_publishers({"counter-1": "24611"})
    activity.apply([StatusRecord("stranger", NOW_US, "online")])
    activity.advance(NOW_US)
    assert activity.unknown == {"stranger"}
    assert counts(activity) == ({}, {"24611": 1, "660": 1, "67": 1})  # counter-1 never heard from
    activity.set_publishers({"counter-1": "24611", "stranger": "24611"})
    assert activity.unknown == set()


def test_a_publisher_with_its_own_threshold_is_silent_on_its_own_clock() -> None:
    activity = PublisherActivity(HIERARCHY, SILENT_AFTER)
    activity.set_publishers({"probe-1": "24611", "counter-1": "24611"}, {"probe-1": 3600 * MICROS})
    activity.apply([
        StatusRecord("probe-1", NOW_US - 1800 * MICROS, "online"),
        StatusRecord("counter-1", NOW_US - 1800 * MICROS, "online"),
    ])  # fmt: skip
    activity.advance(NOW_US)
    assert counts(activity)[1] == {"24611": 1, "660": 1, "67": 1}  # only counter-1: 30 min > 15 min


def test_a_quiet_publisher_is_never_counted_online() -> None:
    activity = PublisherActivity(HIERARCHY, SILENT_AFTER)
    activity.set_publishers({"counter-1": "24611", "counter-2": "24611"})
    activity.apply([
        StatusRecord("counter-1", NOW_US - 2000 * MICROS, "online"),  # its last will says online, 33 min ago
        StatusRecord("counter-2", NOW_US - 10 * MICROS, "online"),
    ])  # fmt: skip
    activity.advance(NOW_US)
    assert counts(activity) == ({"24611": 1, "660": 1, "67": 1}, {"24611": 1, "660": 1, "67": 1})


GRACE = 3600 * MICROS


def test_maintenance_keeps_a_quiet_publisher_out_of_the_silent_count_until_it_ends() -> None:
    activity = PublisherActivity(HIERARCHY, SILENT_AFTER, GRACE)
    activity.set_publishers(
        {"counter-1": "24611", "counter-2": "24667"},
        maintenance_until_us={"counter-1": NOW_US + 60 * MICROS, "counter-2": NOW_US - 1},  # counter-2's has passed
    )
    activity.apply([StatusRecord(p, NOW_US - 2000 * MICROS, "online") for p in ("counter-1", "counter-2")])
    activity.advance(NOW_US)
    assert counts(activity)[1] == {"24667": 1, "663": 1, "67": 1}
    activity.advance(NOW_US + 59 * MICROS)
    assert counts(activity)[1] == {"24667": 1, "663": 1, "67": 1}
    activity.advance(NOW_US + 60 * MICROS)  # the maintenance ends on the engine's clock: silent at once
    assert counts(activity)[1] == {"24611": 1, "660": 1, "24667": 1, "663": 1, "67": 2}


def test_onboarding_is_not_silent_within_its_grace_period_and_is_past_it() -> None:
    activity = PublisherActivity(HIERARCHY, SILENT_AFTER, GRACE)
    registered = {"new-1": NOW_US - 10 * MICROS, "old-1": NOW_US - GRACE - 1, "spoke-1": NOW_US - 10 * MICROS}
    activity.set_publishers({p: "24611" for p in registered}, onboarding_since_us=registered)
    # spoke-1 sent its first message before the registry knew: it is no longer onboarding.
    activity.apply([StatusRecord("spoke-1", NOW_US - 1000 * MICROS, "online")])
    activity.advance(NOW_US)
    assert counts(activity)[1] == {"24611": 2, "660": 2, "67": 2}  # old-1 and spoke-1
    activity.advance(NOW_US + GRACE - 11 * MICROS)
    assert counts(activity)[1]["24611"] == 2
    activity.advance(NOW_US + GRACE - 10 * MICROS)  # new-1's grace period is over
    assert counts(activity)[1]["24611"] == 3
