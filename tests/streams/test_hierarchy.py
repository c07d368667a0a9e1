"""Each event counts in its area and every area above it."""

from __future__ import annotations

import psycopg
import pytest

from streams.hierarchy import AreaHierarchy, CyclicHierarchy, UnknownParent, load_hierarchy


def test_lineage_runs_from_the_area_up_to_the_province() -> None:
    hierarchy = AreaHierarchy.from_parents(
        [("67", None), ("663", "67"), ("24667", "663"), ("24667-01", "24667"), ("660", "67")]
    )
    assert hierarchy.counted_in("24667-01") == ("24667-01", "24667", "663", "67")
    assert hierarchy.counted_in("660") == ("660", "67")
    assert hierarchy.counted_in("67") == ("67",)
    assert hierarchy.counted_in("nowhere") == ()


def test_broken_hierarchies_are_refused() -> None:
    with pytest.raises(UnknownParent):
        AreaHierarchy.from_parents([("67", None), ("663", "99")])
    with pytest.raises(CyclicHierarchy):
        AreaHierarchy.from_parents([("a", "b"), ("b", "a")])


@pytest.mark.integration
def test_the_pilot_areas_roll_up_to_dak_nong(db: psycopg.Connection[tuple[object, ...]]) -> None:
    hierarchy = load_hierarchy(db)
    assert len(hierarchy.lineage) == 124
    assert {chain[-1] for chain in hierarchy.lineage.values()} == {"67"}
    assert hierarchy.counted_in("24667-01") == ("24667-01", "24667", "663", "67")  # a village of Đắk Lao
