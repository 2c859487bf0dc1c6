"""The connect fixture fails a teardown that never ends, naming the await it is stuck in (tests/conftest.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests import conftest


async def test_bound_reports_the_stuck_await(monkeypatch):
    monkeypatch.setattr(conftest, "TEARDOWN_SECONDS", 0.2)
    never = asyncio.Event()

    async def inner():
        await never.wait()

    async def outer():
        await inner()

    with pytest.raises(pytest.fail.Exception) as failed:
        await conftest.within_bound(outer(), "probe")
    assert "inner" in str(failed.value) and "outer" in str(failed.value), str(failed.value)
