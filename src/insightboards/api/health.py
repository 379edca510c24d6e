"""Health checks for load balancers and orchestrators: no token, nothing of any account.

`/healthz` says the process answers; `/readyz` that it can serve, its database reachable
and its schema the one this version needs (a server started on a database that another
version then upgraded, say, is not ready)."""

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from insightboards.api.problems import PROBLEM_JSON, problem_response
from insightboards.database import Database, head_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


def _healthy(status: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": "OK", "content": {"application/json": {"example": {"status": status}}}}
    }


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready: the database cannot be reached or its schema is not the "
        "one this version needs",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


@router.get(
    "/healthz",
    summary="Is the process alive",
    description="200 while the process answers requests; it reads no database. For liveness "
    "probes: restart the process when this fails.",
    response_model=Health,
    responses=_healthy("ok"),
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Can the service serve",
    description="200 when the database answers and its schema is at the revision this version "
    "needs; 503 otherwise. For readiness probes and load balancers: send no traffic while "
    "this fails.",
    response_model=Health,
    responses=_healthy("ready") | _UNAVAILABLE,
)
async def readyz(request: Request) -> Health | Response:
    database: Database = request.app.state.database
    try:
        revision = await anyio.to_thread.run_sync(database.schema_revision)
    except Exception:  # whatever the driver raised, say only what it means
        return problem_response(503, "The database does not answer.")
    if revision != head_revision():
        return problem_response(
            503, "The database's schema is not the one this version of the service needs."
        )
    return Health(status="ready")
