"""The administrative hierarchy as the KPI engine uses it: each area and all the areas above it.

Every KPI is computed for every area and rolled up (village → commune → district → province) by
counting each event once in its own area and once in each ancestor — so a province's value comes
from all its events, never from an average of its children's values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg


class UnknownParent(ValueError):
    def __init__(self, code: str, parent: str) -> None:
        super().__init__(f"area {code} names parent {parent}, which is not an area")
        self.code = code


class CyclicHierarchy(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"area {code} is its own ancestor")
        self.code = code


@dataclass(frozen=True)
class AreaHierarchy:
    # code -> (code, parent, grandparent, …, province): the areas an event in `code` counts in.
    lineage: dict[str, tuple[str, ...]]
    levels: dict[str, str] = field(default_factory=dict)  # code -> province | district | commune | village

    @classmethod
    def from_parents(
        cls, parents: Iterable[tuple[str, str | None]], levels: dict[str, str] | None = None
    ) -> AreaHierarchy:
        parent_of = dict(parents)
        lineage: dict[str, tuple[str, ...]] = {}
        for code in parent_of:
            chain = [code]
            parent = parent_of[code]
            while parent is not None:
                if parent not in parent_of:
                    raise UnknownParent(chain[-1], parent)
                if parent in chain:
                    raise CyclicHierarchy(parent)
                chain.append(parent)
                parent = parent_of[parent]
            lineage[code] = tuple(chain)
        return cls(lineage, dict(levels or {}))

    def counted_in(self, area_code: str) -> tuple[str, ...]:
        """The areas whose KPIs an event in `area_code` contributes to (empty for an unknown code)."""
        return self.lineage.get(area_code, ())


def load_hierarchy(conn: psycopg.Connection[tuple[object, ...]]) -> AreaHierarchy:
    rows = conn.execute("SELECT code, parent_code, level FROM areas").fetchall()
    return AreaHierarchy.from_parents(
        ((str(code), None if parent is None else str(parent)) for code, parent, _ in rows),
        {str(code): str(level) for code, _, level in rows},
    )
