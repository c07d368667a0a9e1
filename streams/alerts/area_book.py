"""Every area's name and parent, read at once: what an alert's text names its area by (commune › village).

Read by the API for each request that shows alerts, and by the notifier for each batch it writes; a
province has a few hundred areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from streams.alerts.messages import AreaName


@dataclass(frozen=True, slots=True)
class AreaBook:
    names: dict[str, AreaName]
    parents: dict[str, str | None]

    @classmethod
    def read(cls, conn: psycopg.Connection[tuple[object, ...]]) -> AreaBook:
        rows = conn.execute("SELECT code, parent_code, level, unit_type, name_vi, name_en FROM areas").fetchall()
        names = {str(c): AreaName(str(c), str(lv), str(u), str(vi), str(en)) for c, _, lv, u, vi, en in rows}
        return cls(names, {str(c): None if p is None else str(p) for c, p, *_ in rows})

    def path(self, code: str) -> list[AreaName]:
        """From the province down to `code`; empty for an area not in the registry."""
        chain: list[AreaName] = []
        current: str | None = code
        while current is not None and current in self.names and len(chain) < 16:
            chain.append(self.names[current])
            current = self.parents.get(current)
        return chain[::-1]
