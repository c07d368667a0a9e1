"""The Vietnamese line of an alert notification.

The alert text helper (issue 22, item 1) adds templated `message_vi`/`message_en` fields to alerts; until
they exist this one function renders a plain line from the alert's columns. Swap it for theirs here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_SEVERITY_VI = {"info": "Thông tin", "warning": "Cảnh báo", "major": "Nghiêm trọng", "critical": "Khẩn cấp"}
_EVENT_VI = {"opened": "đang mở", "acknowledged": "đã tiếp nhận", "resolved": "đã hết"}


def alert_text_vi(alert: Mapping[str, Any], event: str) -> str:
    """One line (no control characters: chat clients and pagers show the first line only), e.g.
    `[Nghiêm trọng] ops.publishers_silent tại Thôn 4 (24615-04): giá trị 1 — đang mở`."""
    severity = _SEVERITY_VI.get(str(alert["severity"]), str(alert["severity"]))
    area = alert.get("area_name_vi")
    where = f"{area} ({alert['area_code']})" if area else str(alert["area_code"])
    value = alert.get("value")
    number = None if value is None else float(value)
    shown = f"giá trị {number:g}" if number is not None and math.isfinite(number) else "không có giá trị"
    line = f"[{severity}] {alert['rule_id']} tại {where}: {shown} — {_EVENT_VI.get(event, event)}"
    return " ".join("".join(ch if ch.isprintable() else " " for ch in line).split())
