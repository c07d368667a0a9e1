"""Where the simulated publishers sit: communes and villages of the areas table, and what kind of place each is.

The kind of place drives the shapes: Gia Nghĩa's wards are the connected city, townships are
towns, communes are rural, and a bon or buôn is an ethnic-minority village, where in 2022 about
40 % of households had no mobile internet and 85 % no fixed line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import psycopg

GIA_NGHIA_CITY = "660"
# The four pilot units of the provincial programme (Nghĩa Tân, Quảng Thành, Đắk Mil town, Đắk Lao):
# busier than the rest in the simulated portal and payments.
PILOT_COMMUNES = frozenset({"24615", "24619", "24664", "24667"})
# Counters per commune: the sectors the province pushes to go cashless first.
COUNTER_SECTORS = ("health", "education", "electricity", "water")
_ETHNIC_VILLAGE_TYPES = frozenset({"Bon", "Buôn", "Bản"})


class Setting(StrEnum):
    CITY = "city"  # wards and residential groups of Gia Nghĩa
    TOWN = "town"  # township centres (thị trấn) and wards elsewhere
    RURAL = "rural"  # communes and their thôn
    BON = "bon"  # ethnic-minority villages (bon, buôn, bản)


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    parent_code: str | None
    level: str
    unit_type: str
    name_vi: str
    district: str | None  # the district-level unit above it (None for the province and districts)


def setting_of(place: Place, parent: Place | None) -> Setting:
    """What kind of place it is, from its unit type and, for a residential group, its commune."""
    if place.level == "village":
        if place.unit_type in _ETHNIC_VILLAGE_TYPES:
            return Setting.BON
        if place.unit_type == "Thôn" or parent is None:
            return Setting.RURAL
        return setting_of(parent, None)
    if place.unit_type == "Phường":
        return Setting.CITY if place.district == GIA_NGHIA_CITY else Setting.TOWN
    if place.unit_type == "Thị trấn":
        return Setting.TOWN
    return Setting.RURAL


@dataclass(frozen=True, slots=True)
class SimPublisher:
    id: str
    source: str  # portal | payments | coverage
    event_type: str  # dossier | transaction | sample
    area_code: str  # where it is registered
    setting: Setting
    sector: str | None = None  # a payment counter's sector
    village: str | None = None  # a coverage probe's village name
    weight: float = 1.0  # its share of its source's events

    @property
    def topic(self) -> str:
        return f"ioc/v1/{self.source}/{self.id}/{self.event_type}"

    @property
    def status_topic(self) -> str:
        return f"ioc/v1/{self.source}/{self.id}/status"


@dataclass(frozen=True)
class Scope:
    """The communes simulated, their villages, and the province (where the portal sits)."""

    province: str
    communes: tuple[Place, ...]
    villages: tuple[Place, ...]
    places: dict[str, Place]

    def setting(self, code: str) -> Setting:
        place = self.places[code]
        return setting_of(place, self.places.get(place.parent_code or ""))


def load_places(conn: psycopg.Connection[tuple[object, ...]]) -> list[Place]:
    rows = conn.execute("SELECT code, parent_code, level, unit_type, name_vi FROM areas ORDER BY code").fetchall()
    return places_from_rows(
        [(str(c), None if p is None else str(p), str(lv), str(t), str(n)) for c, p, lv, t, n in rows]
    )


def places_from_rows(rows: Sequence[tuple[str, str | None, str, str, str]]) -> list[Place]:
    parents = {code: (parent, level) for code, parent, level, _, _ in rows}

    def district(code: str) -> str | None:
        for _ in range(8):  # the hierarchy has four levels; the bound guards against a bad table
            parent, level = parents[code]
            if level == "district":
                return code
            if parent is None or parent not in parents:
                return None
            code = parent
        return None

    return [Place(c, p, lv, t, n, None if lv in ("province", "district") else district(c)) for c, p, lv, t, n in rows]


def select_scope(places: Sequence[Place], commune_codes: Sequence[str] = ()) -> Scope:
    """The given communes, or by default every commune that has villages in the table (the pilot
    units and the remote communes whose villages the reference list carries)."""
    by_code = {p.code: p for p in places}
    province = next(p.code for p in places if p.level == "province")
    villages_of: dict[str, list[Place]] = {}
    for p in places:
        if p.level == "village" and p.parent_code is not None:
            villages_of.setdefault(p.parent_code, []).append(p)
    codes = list(commune_codes) or sorted(villages_of)
    unknown = [c for c in codes if c not in by_code or by_code[c].level != "commune"]
    if unknown:
        raise ValueError(f"not communes of the areas table: {', '.join(unknown)}")
    communes = tuple(by_code[c] for c in codes)
    villages = tuple(v for c in codes for v in villages_of.get(c, []))
    return Scope(province, communes, villages, by_code)


def plan_publishers(scope: Scope, prefix: str) -> list[SimPublisher]:
    """One portal instance for the province, a payment counter per commune and sector, a coverage
    probe per village (or one per commune that has no villages listed)."""
    planned = [SimPublisher(f"{prefix}-portal", "portal", "dossier", scope.province, Setting.TOWN)]
    for commune in scope.communes:
        busy = 3.0 if commune.code in PILOT_COMMUNES else 1.0
        setting = scope.setting(commune.code)
        for sector in COUNTER_SECTORS:
            planned.append(
                SimPublisher(
                    f"{prefix}-pay-{commune.code}-{sector}", "payments", "transaction", commune.code, setting,
                    sector=sector, weight=busy,
                )
            )  # fmt: skip
    probed = {v.parent_code for v in scope.villages}
    for village in scope.villages:
        planned.append(
            SimPublisher(
                f"{prefix}-cov-{village.code.lower()}", "coverage", "sample", village.code, scope.setting(village.code),
                village=f"{village.unit_type} {village.name_vi}",
            )
        )  # fmt: skip
    for commune in scope.communes:
        if commune.code not in probed:
            planned.append(
                SimPublisher(
                    f"{prefix}-cov-{commune.code}", "coverage", "sample", commune.code, scope.setting(commune.code)
                )
            )
    return planned
