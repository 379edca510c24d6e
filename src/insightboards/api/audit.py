"""HTTP route of the audit trail (insightboards/audit/)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from insightboards.api.dashboards import PageSkip, PageTake, problem_responses
from insightboards.api.deps import CallerDep, DatabaseDep
from insightboards.api.json_body import StrictJsonRoute, json_response
from insightboards.audit import service
from insightboards.audit.repository import EventFilter
from insightboards.clock import TimestampOutOfRange, normalize_timestamp
from insightboards.dashboards.schemas import ApiModel
from insightboards.errors import BadRequest

router = APIRouter(tags=["audit"], route_class=StrictJsonRoute)

EventKind = Literal[
    "dashboard.create",
    "dashboard.clone",
    "dashboard.update",
    "dashboard.access",
    "dashboard.item",
    "dashboard.layout",
    "dashboard.restore",
    "dashboard.delete",
    "dashboard.undelete",
    "dashboard.purge",
    "account.create",
    "account.suspend",
    "account.resume",
    "plan.set",
    "user.create",
    "team.create",
    "team.change",
    "token.create",
    "token.revoke",
]


class AuditEvent(ApiModel):
    id: int
    date: str
    userId: str | None
    kind: EventKind
    dashboardId: str | None
    version: int | None
    details: dict[str, Any]


class AuditPage(ApiModel):
    items: list[AuditEvent]
    totalCount: int


def _moment(name: str, value: str | None) -> str | None:
    """A time as events store theirs (UTC; a time without a zone is taken as UTC)."""
    if value is None:
        return None
    try:
        moment = normalize_timestamp(value)
    except TimestampOutOfRange:
        moment = None
    if moment is None:
        raise BadRequest(f"{name} must be an ISO 8601 time, such as 2026-12-01T00:00:00Z.")
    return moment


_TIME = {"format": "date-time"}


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Read the account's audit trail",
    description="What happened in the account, newest first: every change of a board (who, "
    "which board, which version, the fields it changed), tokens made and revoked, and the "
    "admin commands (their `userId` is null). Never a token or a request body. Filter by "
    "`userId`, `dashboardId`, `kind`, and a time range (`since` included, `until` not). "
    "Only the account's admins may read it.",
    responses=problem_responses(400, 401, 402, 403) | {200: {"description": "A page of events."}},
)
def audit_events(
    database: DatabaseDep,
    caller: CallerDep,
    userId: Annotated[str | None, Query(max_length=64, description="Who.")] = None,
    dashboardId: Annotated[str | None, Query(max_length=64, description="Which board.")] = None,
    kind: Annotated[EventKind | None, Query(description="What.")] = None,
    since: Annotated[
        str | None,
        Query(max_length=64, description="From this time, included.", json_schema_extra=_TIME),
    ] = None,
    until: Annotated[
        str | None,
        Query(max_length=64, description="Before this time, excluded.", json_schema_extra=_TIME),
    ] = None,
    skip: PageSkip = 0,
    take: PageTake = 100,
) -> Response:
    where = EventFilter(
        user_id=userId,
        dashboard_id=dashboardId,
        kind=kind,
        since=_moment("since", since),
        until=_moment("until", until),
    )
    page = service.events(database, caller, where, skip, take)
    return json_response(page)
