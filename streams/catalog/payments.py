"""Payments at counters (health, education, electricity, water, taxes and fees): cashless share, volume, count."""

from __future__ import annotations

from ingest.contract.events import PaymentSector
from streams.catalog.kpi import KpiDefinition, Ratio, Total
from streams.measures import Count, Measure
from streams.records import PaymentRecord

EVENT_TYPE = "transaction"
SECTORS: tuple[str, ...] = tuple(s.value for s in PaymentSector)
SECTOR_LABELS_VI = {
    "health": "y tế",
    "education": "giáo dục",
    "electricity": "điện",
    "water": "nước",
    "tax": "thuế",
    "public_service": "dịch vụ công",
    "other": "khác",
}


def _succeeded(r: PaymentRecord) -> bool:
    return r.outcome == "succeeded"


def _amount(r: PaymentRecord) -> int:
    return r.amount_vnd


def _cashless(r: PaymentRecord) -> bool:
    return r.outcome == "succeeded" and r.method != "cash"


def _in_sector(sector: str, cashless: bool) -> Count[PaymentRecord]:
    name = f"succeeded_{'cashless_' if cashless else ''}vnd.{sector}"
    if cashless:
        return Count(name, lambda r: _cashless(r) and r.sector == sector, _amount)
    return Count(name, lambda r: _succeeded(r) and r.sector == sector, _amount)


MEASURES: tuple[Measure, ...] = (
    Count("succeeded_vnd", _succeeded, _amount),
    Count("succeeded_cashless_vnd", _cashless, _amount),
    Count("succeeded_count", _succeeded),
    *(_in_sector(sector, cashless) for sector in SECTORS for cashless in (False, True)),
)


_CASHLESS_SQL = (
    "SELECT 100.0 * n / NULLIF(d, 0), n, d FROM (SELECT"
    " coalesce(sum(amount_vnd) FILTER (WHERE method <> 'cash'), 0) AS n, coalesce(sum(amount_vnd), 0) AS d"
    " FROM payment_transactions WHERE outcome = 'succeeded'"
    " AND occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)) AS t"
)
_SECTOR_CASHLESS_SQL = (
    "SELECT 100.0 * n / NULLIF(d, 0), n, d FROM (SELECT"
    " coalesce(sum(amount_vnd) FILTER (WHERE method <> 'cash'), 0) AS n, coalesce(sum(amount_vnd), 0) AS d"
    " FROM payment_transactions WHERE outcome = 'succeeded' AND sector = %(sector)s"
    " AND occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)) AS t"
)


_CASHLESS_DEFINITION = (
    "Σ amount_vnd of `succeeded` transactions paid other than in cash ÷ Σ amount_vnd of all `succeeded`"
    " transactions in the window"
)

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="payments.cashless_share",
        event_type=EVENT_TYPE,
        label_vi="Tỷ lệ thanh toán không dùng tiền mặt",
        label_en="Cashless payments (by value)",
        unit="%",
        definition=_CASHLESS_DEFINITION + ".",
        formula=Ratio("succeeded_cashless_vnd", "succeeded_vnd"),
        sql=_CASHLESS_SQL,
    ),
    *(
        KpiDefinition(
            id=f"payments.cashless_share.{sector}",
            event_type=EVENT_TYPE,
            label_vi=f"Tỷ lệ thanh toán không dùng tiền mặt — {SECTOR_LABELS_VI[sector]}",
            label_en=f"Cashless payments (by value) — {sector.replace('_', ' ')}",
            unit="%",
            definition=f"{_CASHLESS_DEFINITION}, sector `{sector}` only.",
            formula=Ratio(f"succeeded_cashless_vnd.{sector}", f"succeeded_vnd.{sector}"),
            sql=_SECTOR_CASHLESS_SQL,
            sql_params={"sector": sector},
        )
        for sector in SECTORS
    ),
    KpiDefinition(
        id="payments.volume_vnd",
        event_type=EVENT_TYPE,
        label_vi="Giá trị thanh toán",
        label_en="Payment volume",
        unit="VND",
        definition="Σ amount_vnd of `succeeded` transactions in the window.",
        formula=Total("succeeded_vnd"),
        sql="SELECT coalesce(sum(amount_vnd), 0) FROM payment_transactions WHERE outcome = 'succeeded'"
        " AND occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)",
    ),
    KpiDefinition(
        id="payments.tx_count",
        event_type=EVENT_TYPE,
        label_vi="Số giao dịch thanh toán",
        label_en="Payments",
        unit="transactions",
        definition="Number of `succeeded` transactions in the window.",
        formula=Total("succeeded_count"),
        sql="SELECT count(*) FROM payment_transactions WHERE outcome = 'succeeded'"
        " AND occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)",
    ),
)
