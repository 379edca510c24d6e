"""api.fast_paths in front of FastAPI: an error while answering a call itself is the same
problem document (500) that the routes' handler gives, not a dropped connection."""

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI

from insightboards.accounts.service import CallerCache
from insightboards.api.fast_paths import FastPaths
from insightboards.dashboards import served

TOKEN = f"ib_{'a' * 24}_{'b' * 43}"


def test_an_error_in_a_fast_path_is_answered_as_a_problem(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api = FastAPI()
    api.state.loop_reads = object()  # present: the GET is tried on the loop
    api.state.callers = CallerCache()

    async def broken(*_args: object) -> None:
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(served, "get_on_loop", broken)
    app = FastPaths(api, ["/results/api/v1"])

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(
                f"/results/api/v1/dashboards/{'c' * 24}",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )

    with caplog.at_level(logging.ERROR, logger="insightboards.api.fast_paths"):
        response = asyncio.run(get())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "An unexpected error occurred."
    assert "the disk is gone" not in response.text
    assert any("the disk is gone" in (record.exc_text or "") for record in caplog.records)
