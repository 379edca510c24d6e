"""Typed request dependencies: the database, the authenticated caller, `If-Match`."""

import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from insightboards.access import Caller
from insightboards.accounts import service as accounts_service
from insightboards.dashboards.limits import Limits
from insightboards.database import Database
from insightboards.errors import BadRequest, Forbidden, Unauthorized
from insightboards.ids import is_valid_id

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`.")


# `async def`: FastAPI runs a plain `def` dependency in its thread pool, a trip there and
# back on every request for an attribute lookup.
async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


LimitsDep = Annotated[Limits, Depends(get_limits)]


async def get_caller(
    request: Request,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    account_header: Annotated[
        str | None,
        Header(
            alias="gtmhub-accountId",
            description="The account the call acts in; the token's account when absent.",
            pattern=r"^[0-9a-f]{24}$",
        ),
    ] = None,
) -> Caller:
    if credentials is None:
        raise Unauthorized("An `Authorization: Bearer <token>` header is required.")
    token = credentials.credentials
    state = request.app.state
    caller = await caller_of(state, database, token)
    request.state.account_id = caller.account_id  # for the access log
    request.state.token = token  # the change feed's streams look the caller up again
    token_hash = request.state.token_hash = accounts_service.hash_token(token)
    state.rate_limiter.spend(token_hash)
    if account_header is not None:
        if not is_valid_id(account_header):
            raise BadRequest("gtmhub-accountId must be 24 lowercase hex characters.")
        if account_header != caller.account_id:
            raise Forbidden("The token does not belong to the account in gtmhub-accountId.")
    return caller


async def caller_of(state: State, database: Database, token: str) -> Caller:
    """The caller `token` stands for now: 401 if unknown, revoked or expired, 402 if the
    account is suspended."""
    caller, loop_reads = None, state.loop_reads
    if loop_reads is not None:  # a cached caller costs one point read, on the loop
        caller = await accounts_service.cached_caller(loop_reads, state.callers, token)
    if caller is None:
        caller = await run_in_threadpool(
            accounts_service.authenticate, database, token, state.callers
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
_NEVER_MATCHES = -1
_VERSION = re.compile(r"[0-9]{1,11}")


def get_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag last seen; the change fails with 412 if the board changed since.",
        ),
    ] = None,
) -> int | None:
    """The version an `If-Match` header asks for; None when absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().split(",")[0].strip().removeprefix("W/").strip('"')
    # ASCII digits only: `str.isdigit` also accepts `²`, which `int` refuses.
    return int(tag) if _VERSION.fullmatch(tag) else _NEVER_MATCHES


IfMatchDep = Annotated[int | None, Depends(get_if_match)]
