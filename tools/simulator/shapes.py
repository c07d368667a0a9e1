"""What happens where and when: pure, seeded draws grounded in the province's published figures.

Nothing here reads the clock: time is passed in (simulated local time), and every draw takes the
run's `random.Random`, so a seed replays the same day. Figures from the 2022 Báo Đắk Nông article on
Resolution 09-NQ/TU: e-certification 70 % by September 2022 (90 % by December), cashless payments
pushed first in health, education, electricity and water, and among ethnic-minority households about
40 % without mobile internet and 85 % without fixed internet. The rest are plausible defaults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from tools.simulator.areas import Setting

LOCAL_TIME: Final = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # no daylight saving

E_CERT_SHARE: Final = 0.70  # the plan's September 2022 target, which the province was just reaching
LATE_SHARE: Final = 0.08  # of resolved dossiers, past their legal deadline
# Legal time limits in days by procedure domain (land titles are the slowest, civil status the fastest).
DUE_DAYS: Final = {
    "land": 30.0, "civil_status": 3.0, "business": 3.0, "construction": 20.0,
    "social": 10.0, "justice": 10.0, "other": 7.0,
}  # fmt: skip
# Land and civil status are the procedures the province moved online first, and the most frequent.
_DOMAIN_WEIGHTS: Final = {
    "land": 30, "civil_status": 35, "business": 8, "construction": 7, "social": 10, "justice": 5, "other": 5,
}  # fmt: skip
_ONLINE_SHARE: Final = {Setting.CITY: 0.55, Setting.TOWN: 0.40, Setting.RURAL: 0.22, Setting.BON: 0.10}
# Cash share of payments by sector and place: hospitals and schools still take cash, power bills less so;
# villages far more than town.
_CASH_SHARE: Final = {
    "health": (0.45, 0.75), "education": (0.35, 0.65), "electricity": (0.10, 0.35),
    "water": (0.25, 0.55), "tax": (0.15, 0.40), "public_service": (0.30, 0.60), "other": (0.40, 0.70),
}  # fmt: skip
# Typical amounts in đồng (median of a log-normal): a clinic visit, a term's fees, a month's bills.
_AMOUNT_MEDIAN_VND: Final = {
    "health": 180_000, "education": 900_000, "electricity": 420_000, "water": 160_000,
    "tax": 1_500_000, "public_service": 250_000, "other": 300_000,
}  # fmt: skip
_CASHLESS_METHODS: Final = (("qr", 40), ("bank_transfer", 30), ("ewallet", 20), ("card", 10))
# Share of coverage samples that are usable (≥ 5 Mbit/s, ≤ 150 ms, ≤ 2 % loss): a bon matches the
# 40 % of ethnic-minority households without mobile internet.
USABLE_SHARE: Final = {Setting.CITY: 0.95, Setting.TOWN: 0.85, Setting.RURAL: 0.70, Setting.BON: 0.60}
_TECHNOLOGIES: Final = {
    Setting.CITY: (("4g", 55), ("5g", 10), ("ftth", 20), ("wifi", 15)),
    Setting.TOWN: (("4g", 65), ("ftth", 15), ("wifi", 10), ("3g", 10)),
    Setting.RURAL: (("4g", 60), ("3g", 25), ("2g", 10), ("ftth", 5)),
    Setting.BON: (("4g", 45), ("3g", 30), ("2g", 25)),
}
_OPERATORS: Final = (("viettel", 50), ("vnpt", 35), ("mobifone", 13), ("other", 2))


def activity(source: str, local: datetime) -> float:
    """How busy a source is at a local time, from 0 to 1 (its busiest hour)."""
    hour = local.hour + local.minute / 60
    weekday = local.weekday()  # Monday 0
    if source == "coverage":
        return 1.0  # probes measure on a timer, day and night
    if source == "portal":
        # One-stop desks: 7:30–11:30 and 13:30–17:00 on weekdays, Saturday mornings at some;
        # online submissions trickle in the evening and at weekends.
        if weekday < 5 and (7.5 <= hour < 11.5 or 13.5 <= hour < 17):
            return 1.0
        if weekday == 5 and 7.5 <= hour < 11.5:
            return 0.3
        return 0.08 if 6 <= hour < 23 else 0.02
    # Payments: counters by day, bills paid from phones into the evening.
    scale = 1.0 if weekday < 5 else 0.5
    if 7 <= hour < 11 or 13.5 <= hour < 17:
        return scale
    if 11 <= hour < 13.5 or 17 <= hour < 21:
        return 0.45 * scale
    return 0.04 * scale


@dataclass(frozen=True, slots=True)
class DossierDraw:
    domain: str
    procedure_code: str
    channel: str
    service_level: str
    e_certified: bool
    paid_online: bool | None


def draw_dossier(rng: random.Random, setting: Setting) -> DossierDraw:
    domain = rng.choices(list(_DOMAIN_WEIGHTS), weights=list(_DOMAIN_WEIGHTS.values()))[0]
    online = rng.random() < _ONLINE_SHARE[setting]
    if online:
        channel, level = "online", rng.choice(("full_online", "full_online", "partial_online"))
    else:
        # Most of the rest come to the one-stop desk; QR codes posted there since 2022 start some.
        channel = rng.choices(("one_stop_desk", "qr_kiosk", "postal"), weights=(80, 15, 5))[0]
        level = "offline" if channel != "qr_kiosk" else "partial_online"
    return DossierDraw(
        domain=domain,
        procedure_code=f"1.{rng.randrange(0, 13_000):06d}",
        channel=channel,
        service_level=level,
        e_certified=rng.random() < E_CERT_SHARE,
        paid_online=(rng.random() < 0.6) if online else None,
    )


def due_in(domain: str, speed: float) -> timedelta:
    """The legal time limit in the simulated world, compressed to real time by `speed`."""
    return timedelta(days=DUE_DAYS[domain]) / speed


def resolution_fraction(rng: random.Random, late_share: float = LATE_SHARE) -> float:
    """When a dossier is resolved, as a fraction of its time limit: above 1 is late."""
    if rng.random() < late_share:
        return rng.uniform(1.05, 1.6)
    return rng.uniform(0.2, 0.95)


def cash_share(sector: str, setting: Setting) -> float:
    town, rural = _CASH_SHARE[sector]
    return town if setting in (Setting.CITY, Setting.TOWN) else rural


@dataclass(frozen=True, slots=True)
class PaymentDraw:
    method: str
    amount_vnd: int
    outcome: str


def draw_payment(rng: random.Random, sector: str, setting: Setting) -> PaymentDraw:
    if rng.random() < cash_share(sector, setting):
        method = "cash"
    else:
        method = rng.choices([m for m, _ in _CASHLESS_METHODS], weights=[w for _, w in _CASHLESS_METHODS])[0]
    amount = int(rng.lognormvariate(0, 0.6) * _AMOUNT_MEDIAN_VND[sector]) // 1000 * 1000
    outcome = rng.choices(("succeeded", "failed", "refunded"), weights=(96, 3, 1))[0]
    return PaymentDraw(method, max(1000, amount), outcome)


@dataclass(frozen=True, slots=True)
class CoverageDraw:
    operator: str
    technology: str
    download_mbps: float
    upload_mbps: float
    latency_ms: float
    packet_loss_pct: float
    rsrp_dbm: float | None
    usable: bool  # by the KPI's definition: ≥ 5 Mbit/s, ≤ 150 ms, ≤ 2 % loss


def draw_coverage(rng: random.Random, setting: Setting) -> CoverageDraw:
    operator = rng.choices([o for o, _ in _OPERATORS], weights=[w for _, w in _OPERATORS])[0]
    techs = _TECHNOLOGIES[setting]
    technology = rng.choices([t for t, _ in techs], weights=[w for _, w in techs])[0]
    usable = technology != "2g" and rng.random() < USABLE_SHARE[setting] / _not_2g_share(setting)
    if usable:
        download = rng.uniform(5.5, 90.0 if technology in ("ftth", "5g", "wifi") else 45.0)
        latency, loss = rng.uniform(15, 140), rng.uniform(0, 1.8)
    else:
        # Unusable: too slow, too laggy or too lossy (one of them at least).
        download = rng.uniform(0.05, 4.5) if technology in ("2g", "3g") or rng.random() < 0.6 else rng.uniform(5, 20)
        latency = rng.uniform(160, 900) if download >= 5 or rng.random() < 0.5 else rng.uniform(60, 400)
        loss = rng.uniform(0, 12)
    radio = technology not in ("ftth", "wifi")
    return CoverageDraw(
        operator=operator,
        technology=technology,
        download_mbps=round(download, 2),
        upload_mbps=round(download * rng.uniform(0.2, 0.5), 2),
        latency_ms=round(latency, 1),
        packet_loss_pct=round(loss, 2),
        rsrp_dbm=round(rng.uniform(-120, -75) if usable else rng.uniform(-135, -105), 1) if radio else None,
        usable=download >= 5 and latency <= 150 and loss <= 2,
    )


def _not_2g_share(setting: Setting) -> float:
    techs = _TECHNOLOGIES[setting]
    return sum(w for t, w in techs if t != "2g") / sum(w for _, w in techs)
