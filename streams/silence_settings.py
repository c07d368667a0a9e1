"""When a publisher counts as silent, and how long a new one has to send its first message.

A module of its own because the API shows each publisher as silent or not by the same rules as the
engine counts `ops.publishers_silent` (`api.http.publishers`): it reads these, and nothing else of
the engine's settings.
"""

from __future__ import annotations

from pydantic import Field

from runtime.settings import SharedSettings


class SilenceSettings(SharedSettings):
    """Read by the KPI engine, and by the API for each publisher's `silent` and `onboarding_until`."""

    streams_silent_after_seconds: float = Field(
        default=900,
        gt=0,
        description="a publisher with no event nor status for this long (event time) counts in"
        " `ops.publishers_silent`, unless it has a time of its own (`ioc publishers silent-after`)",
    )
    streams_onboarding_grace_seconds: float = Field(
        default=86_400,
        gt=0,
        description="a publisher registered this recently that has sent nothing yet (state `onboarding`) is not"
        " counted silent: no silent-publisher alert during its grace period",
    )
