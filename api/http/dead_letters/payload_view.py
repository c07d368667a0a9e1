"""A dead letter's payload as a person may look at it: UTF-8 text as text, anything else as a hex dump.

Only the first 64 KiB is shown (a dead letter may hold up to the broker's limit), and the answer says
so. The text goes out as a JSON string, never as markup: the console puts it in the page as text.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Literal

SHOWN_BYTES = 64 * 1024
_HEX_ROW = 16


@dataclass(frozen=True, slots=True)
class PayloadView:
    payload_bytes: int
    shown_bytes: int
    truncated: bool
    encoding: Literal["utf-8", "hex"]
    content: str


def payload_view(payload: bytes) -> PayloadView:
    shown = payload[:SHOWN_BYTES]
    text = _utf8_text(shown, complete=len(payload) <= SHOWN_BYTES)
    if text is None:
        return PayloadView(len(payload), len(shown), len(payload) > len(shown), "hex", hex_dump(shown))
    return PayloadView(len(payload), len(shown), len(payload) > len(shown), "utf-8", text)


def _utf8_text(data: bytes, *, complete: bool) -> str | None:
    """The text, when `data` is UTF-8 (a character cut at the 64 KiB boundary of a longer payload is
    dropped); None when it is not, or holds control characters other than tab and newlines (binary)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(data, final=complete)
    except UnicodeDecodeError:
        return None
    if any((ord(c) < 32 and c not in "\t\r\n") or c == "\x7f" for c in text):
        return None
    return text


def hex_dump(data: bytes) -> str:
    """Offset, 16 bytes in hex, and the printable ASCII of them (`.` for the rest), one row per 16 bytes."""
    rows = []
    for offset in range(0, len(data), _HEX_ROW):
        chunk = data[offset : offset + _HEX_ROW]
        printable = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(f"{offset:08x}  {chunk.hex(' '):<47}  |{printable}|")
    return "\n".join(rows)
