"""The service's only clock (UTC, server time). Tests replace :func:`now` to move time."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
