"""Frames: one per real change, numbered within an epoch, with the target in force (pure logic)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from streams.catalog import CATALOG
from streams.engine.frames_out import FrameBuilder
from streams.frames import KpiFrame, batch_texts, decode_batch, encode_batch
from streams.hierarchy import AreaHierarchy
from streams.live import LiveKpis
from streams.records import MICROS, PaymentRecord, SampleRecord
from streams.targets import DEFAULT_TARGETS_FILE, InvalidTargets, Target, Targets
from tests.streams.kpi_data import NOW_US, PARENTS

HIERARCHY = AreaHierarchy.from_parents(PARENTS.items())
KPI_IDS = [k.id for k in CATALOG.kpis]


def payment(amount: int, method: str = "qr", seconds_ago: int = 10) -> PaymentRecord:
    return PaymentRecord(
        "counter-1", "24615-01", NOW_US - seconds_ago * MICROS, None, "water", method, amount, "succeeded"
    )


def test_only_changed_values_become_frames_numbered_one_by_one() -> None:
    state = LiveKpis(CATALOG, HIERARCHY, dossier_horizon_us=90 * 86_400 * MICROS, silent_after_us=900 * MICROS)
    state.advance(NOW_US)
    builder = FrameBuilder(CATALOG, Targets.load(DEFAULT_TARGETS_FILE, KPI_IDS), "e1")
    state.apply([payment(100_000), payment(300_000, method="cash")])
    first = builder.changed_frames(state)
    lineage = ("24615-01", "24615", "660", "67")
    payment_kpis = [k.id for k in CATALOG.for_event_type("transaction")] + ["ops.events_per_s"]
    assert {(f.kpi, f.area, f.window) for f in first} == {
        (kpi, area, window) for kpi in payment_kpis for area in lineage for window in ("5m", "1h", "24h", "today")
    }
    assert [f.seq for f in first] == list(range(1, len(first) + 1))
    share = next(f for f in first if (f.kpi, f.area, f.window) == ("payments.cashless_share", "67", "5m"))
    assert (share.value, share.numerator, share.denominator, share.unit, share.target) == (
        25.0,
        100_000,
        400_000,
        "%",
        50,
    )
    assert share.last_event_at == "2026-11-26T02:30:07+00:00"
    assert builder.changed_frames(state) == []  # nothing changed, nothing sent

    state.apply([payment(50_000, method="cash", seconds_ago=5)])  # changes sums, not the health sector's
    second = builder.changed_frames(state)
    assert {f.kpi for f in second} == {
        "payments.cashless_share",
        "payments.cashless_share.water",
        "payments.volume_vnd",
        "payments.tx_count",
        "ops.events_per_s",
    }
    assert second[0].seq == len(first) + 1
    batch = encode_batch([f.encode() for f in second])
    assert decode_batch(batch) == second
    assert batch_texts(batch) == [f.encode() for f in second]  # what the API forwards, as it is


def test_a_batch_splits_into_its_frames_even_when_their_strings_hold_commas_and_newlines() -> None:
    frame = KpiFrame(
        "coverage.usable_share", "67", "5m", None, None, None, "%,\n%", None, None, "2026-11-26T02:30:17+00:00",
        "e1", 7,
    )  # fmt: skip
    texts = [frame.encode(), frame._replace(unit="},\n{", seq=8).encode(), frame._replace(seq=9).encode()]
    batch = encode_batch(texts)
    assert batch_texts(batch) == texts
    assert [f.unit for f in decode_batch(batch)] == ["%,\n%", "},\n{", "%,\n%"]
    assert batch_texts(encode_batch([])) == []
    assert decode_batch(encode_batch([])) == []


def test_a_frame_decodes_to_what_was_encoded_even_beyond_64_bit_sums() -> None:
    frame = KpiFrame(
        "payments.volume_vnd", "67", "24h", 2.0**70, 2**70, None, "VND", None, None, "2026-11-26T02:30:17+00:00",
        "e1", 7,
    )  # fmt: skip
    text = frame.encode()  # orjson stops at 64 bits; the frame still goes out
    assert '"numerator":1180591620717411303424,' in text
    assert KpiFrame.decode(text) == frame
    assert KpiFrame.decode(frame._replace(numerator=12).encode()) == frame._replace(numerator=12)


def test_a_new_epoch_restarts_the_sequence_and_sends_every_value() -> None:
    state = LiveKpis(CATALOG, HIERARCHY, dossier_horizon_us=90 * 86_400 * MICROS, silent_after_us=900 * MICROS)
    state.advance(NOW_US)
    builder = FrameBuilder(CATALOG, Targets([]), "e1")
    state.apply([payment(100_000)])
    count = len(builder.changed_frames(state))
    builder.new_epoch("e2")
    state.mark_all_dirty()
    again = builder.changed_frames(state)
    assert len(again) == count
    assert {f.epoch for f in again} == {"e2"}
    assert again[0].seq == 1


def test_the_target_in_force_is_the_next_deadline_then_the_last() -> None:
    targets = Targets.load(DEFAULT_TARGETS_FILE, KPI_IDS)
    for day, expected in (
        (date(2022, 8, 1), 70),
        (date(2022, 9, 30), 70),
        (date(2022, 10, 1), 90),
        (date(2026, 1, 1), 90),
    ):
        target = targets.in_force("portal.e_cert_rate", day)
        assert target is not None
        assert target.value == expected, day
    assert targets.in_force("payments.tx_count", date(2026, 1, 1)) is None
    assert Target(kpi="x", value=70, direction="at_least").met_by(70.0)
    assert not Target(kpi="x", value=2, direction="at_most").met_by(2.5)


def test_a_targets_file_with_an_unknown_kpi_or_field_is_refused(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("targets:\n  - {kpi: portal.nope, value: 1, direction: at_least}\n")
    with pytest.raises(InvalidTargets, match=r"do not exist: portal\.nope"):
        Targets.load(unknown, KPI_IDS)
    typo = tmp_path / "typo.yaml"
    typo.write_text("targets:\n  - {kpi: portal.e_cert_rate, value: 1, direction: above}\n")
    with pytest.raises(InvalidTargets, match="direction"):
        Targets.load(typo, KPI_IDS)


def test_the_event_rate_counts_every_source_over_the_window_length() -> None:
    state = LiveKpis(CATALOG, HIERARCHY, dossier_horizon_us=90 * 86_400 * MICROS, silent_after_us=900 * MICROS)
    state.advance(NOW_US)
    sample = SampleRecord("probe-1", "24615-01", NOW_US - 20 * MICROS, None, 12.0, 40.0, 0.0)
    state.apply([payment(100_000), payment(5_000, method="cash"), sample])
    frames = {(f.kpi, f.area, f.window): f for f in FrameBuilder(CATALOG, Targets([]), "e1").changed_frames(state)}
    five = frames[("ops.events_per_s", "67", "5m")]
    assert (five.value, five.numerator, five.denominator) == (3 / 300, 3, 300.0)
    today = frames[("ops.events_per_s", "24615", "today")]
    assert (today.numerator, today.denominator) == (3, 34_800.0)  # 09:30 local: midnight to 09:40
    assert ("ops.events_per_s", "24667", "5m") not in frames


def test_slow_windows_and_operations_kpis_wait_for_their_areas_turn() -> None:
    state = LiveKpis(CATALOG, HIERARCHY, dossier_horizon_us=90 * 86_400 * MICROS, silent_after_us=900 * MICROS)
    state.advance(NOW_US)
    builder = FrameBuilder(CATALOG, Targets([]), "e1")
    state.apply([payment(100_000)])
    fast = builder.changed_frames(state, slow_turn=lambda area: False)
    assert {f.window for f in fast} == {"5m", "1h"}
    assert "ops.events_per_s" not in {f.kpi for f in fast}
    assert builder.pending
    slow = builder.changed_frames(state, slow_turn=lambda area: area in {"67", "660"})
    # Their turn: the long windows' values and the event rate of every window, for those areas only.
    assert {(f.area, f.window) for f in slow} == {(a, w) for a in ("67", "660") for w in ("5m", "1h", "24h", "today")}
    assert {f.kpi for f in slow if f.window in ("5m", "1h")} == {"ops.events_per_s"}
    rest = builder.changed_frames(state, slow_turn=lambda area: True)
    assert {f.area for f in rest} == {"24615-01", "24615"}
    assert not builder.pending
