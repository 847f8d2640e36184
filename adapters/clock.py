"""The wall clock: the one place rectify reads the system time. Everything else is given
a Clock (engine/clock.py), so that tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)  # the one wall-clock read
