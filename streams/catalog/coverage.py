"""Mobile internet in villages, from network probes: usable share, median download, 95th-percentile latency."""

from __future__ import annotations

from streams.catalog.kpi import KpiDefinition, Quantile, Ratio
from streams.measures import Count, Distribution, Measure
from streams.records import SampleRecord

EVENT_TYPE = "sample"
# What "usable" means for the programme: enough for video calls and online public services.
USABLE_MIN_DOWNLOAD_MBPS = 5.0
USABLE_MAX_LATENCY_MS = 150.0
USABLE_MAX_PACKET_LOSS_PCT = 2.0


def _usable(r: SampleRecord) -> bool:
    return (
        r.download_mbps >= USABLE_MIN_DOWNLOAD_MBPS
        and r.latency_ms <= USABLE_MAX_LATENCY_MS
        and r.packet_loss_pct <= USABLE_MAX_PACKET_LOSS_PCT
    )


MEASURES: tuple[Measure, ...] = (
    Count("samples"),
    Count("samples_usable", _usable),
    Distribution("download_mbps", lambda r: r.download_mbps),
    Distribution("latency_ms", lambda r: r.latency_ms),
)

_PERCENTILE_NOTE = (
    " Estimated from a log-bucketed histogram: within 1 % (relative) of the exact nearest-rank value"
    " (SQL's percentile_disc)."
)

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="coverage.usable_share",
        event_type=EVENT_TYPE,
        label_vi="Tỷ lệ mẫu đo Internet di động dùng được",
        label_en="Usable mobile internet (samples)",
        unit="%",
        definition=f"Share of coverage samples in the window with download_mbps ≥ {USABLE_MIN_DOWNLOAD_MBPS:g},"
        f" latency_ms ≤ {USABLE_MAX_LATENCY_MS:g} and packet_loss_pct ≤ {USABLE_MAX_PACKET_LOSS_PCT:g}.",
        formula=Ratio("samples_usable", "samples"),
        sql="SELECT 100.0 * n / NULLIF(d, 0), n, d FROM (SELECT"
        " count(*) FILTER (WHERE download_mbps >= 5 AND latency_ms <= 150 AND packet_loss_pct <= 2) AS n,"
        " count(*) AS d FROM coverage_samples"
        " WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)) AS t",
    ),
    KpiDefinition(
        id="coverage.download_mbps_p50",
        event_type=EVENT_TYPE,
        label_vi="Tốc độ tải xuống trung vị",
        label_en="Median download speed",
        unit="Mbit/s",
        definition="Median (50th percentile) of download_mbps over the samples in the window." + _PERCENTILE_NOTE,
        formula=Quantile("download_mbps", 0.5),
        sql="SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY download_mbps), NULL, count(*) FROM coverage_samples"
        " WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)",
    ),
    KpiDefinition(
        id="coverage.latency_ms_p95",
        event_type=EVENT_TYPE,
        label_vi="Độ trễ phân vị 95",
        label_en="Latency, 95th percentile",
        unit="ms",
        definition="95th percentile of latency_ms over the samples in the window." + _PERCENTILE_NOTE,
        formula=Quantile("latency_ms", 0.95),
        sql="SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms), NULL, count(*) FROM coverage_samples"
        " WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND area_code = ANY(%(areas)s)",
    ),
)
