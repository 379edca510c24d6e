"""HTTP routes of the Dashboards API: parse the request, call the service, shape the answer."""

import re
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from insightboards.api.deps import CallerDep, DatabaseDep, IfMatchDep, LimitsDep
from insightboards.api.json_body import StrictJsonRoute, json_response
from insightboards.api.problems import PROBLEM_JSON
from insightboards.dashboards import creating, history, listing, service, trash
from insightboards.dashboards.documents import Served
from insightboards.dashboards.responses import (
    DashboardList,
    DashboardPublic,
    DashboardStored,
    PatchOperation,
    ReportSummary,
    TagUsageList,
    TrashPage,
    VersionList,
)
from insightboards.dashboards.schemas import (
    MAX_SKIP,
    MAX_TAKE,
    TAG_PATTERN,
    CloneRequest,
    DashboardCreate,
    DashboardItemIn,
    DashboardUpdate,
    FieldsText,
    FilterText,
    ListQuery,
    SortText,
)
from insightboards.errors import BadRequest, NotFound
from insightboards.ids import is_valid_id
from insightboards.query import list_query
from insightboards.query.fields import QueryContext

_problem: dict[str, Any] = {
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
_ETAG = {
    "ETag": {"description": "The dashboard's version, for If-Match.", "schema": {"type": "string"}}
}
JSON_PATCH = "application/json-patch+json"
# On a change whose If-Match named an older version: that version, the change having been
# merged with the changes made since (dashboards/merging.py).
MERGED_FROM = "Insightboards-Merged-From"
_MERGED = {
    MERGED_FROM: {
        "description": "Present when `If-Match` named an older version: that version, the "
        "change having been merged with the changes made since.",
        "schema": {"type": "string"},
    }
}
_IF_MATCH_MERGES = (
    "With `If-Match` naming an older version the board keeps, the change is merged with "
    "those made since when they touch different fields or items (`Insightboards-Merged-From` "
    "says so); when both changed the same field or item, 412 naming each in `errors`. 412 "
    "too for a version the board does not keep."
)
_LOCATION = {"Location": {"description": "The new dashboard's URL.", "schema": {"type": "string"}}}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Bad request",
        401: "Unauthorized",
        402: "Payment required",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict: the tag is taken",
        412: "Precondition failed: the board changed since the ETag in If-Match",
        413: "Request body too large",
    }
    codes = (*codes, 413)
    return {code: {"description": descriptions[code], **_problem} for code in codes}


_COMMON = (400, 401, 402, 403)
_FIELDS = (
    "The fields each item keeps, comma-separated, with sub-fields in braces: "
    "`name,tags{name,title}` (all of them when absent)."
)
# skip and take of the pages this service adds (history, trash, audit).
PageSkip = Annotated[int, Query(ge=0, le=MAX_SKIP, description="How many to pass over (0).")]
PageTake = Annotated[
    int, Query(ge=0, le=MAX_TAKE, description="How many to answer with (100, at most 1000).")
]
DashboardId = Annotated[str, Path(description="The dashboard's id (24 lowercase hex characters).")]
router = APIRouter(prefix="/dashboards", tags=["dashboards"], route_class=StrictJsonRoute)


def _etag(version: int) -> str:
    return f'"{version}"'


def board_response(
    served: Served, status_code: int = status.HTTP_200_OK, location: str | None = None
) -> Response:
    """The board's JSON as the service serialized it. The route's response model documents
    the shape (and the tests check answers against it); validating it again would cost more
    than the rest of a GET."""
    headers = {"ETag": _etag(served.version)}
    if served.merged_from is not None:
        headers[MERGED_FROM] = str(served.merged_from)
    if location is not None:
        headers["Location"] = location
    return Response(served.body, status_code, headers, media_type="application/json")


def _check_id(dashboard_id: str, not_found: str = "Dashboard not found.") -> None:
    if not is_valid_id(dashboard_id):
        raise NotFound(not_found)


@router.get(
    "",
    response_model=DashboardList,
    response_model_exclude_unset=True,
    summary="List dashboards",
    description="Loads the dashboards the caller may read using filter, sort and projection "
    "(`fields`) expressions, a page at a time, with `totalCount` (every match). The query "
    "may come in the query string or in a JSON body; the query string wins. Reports are "
    'dashboards too (`isReport`). The filter language is MongoDB\'s: `{"tags.name": '
    '"OKR"}`, `{"name": {"$regex": "^Q[1-4]"}}`, `{"isReport": false}`.',
    responses=problem_responses(*_COMMON) | {200: {"description": "A page of dashboards."}},
)
async def list_dashboards(
    request: Request,
    database: DatabaseDep,
    caller: CallerDep,
    limits: LimitsDep,
    skip: Annotated[
        int | None, Query(ge=0, le=MAX_SKIP, description="How many matches to pass over (0).")
    ] = None,
    take: Annotated[
        int | None,
        Query(
            ge=0, le=MAX_TAKE, description="How many matches to answer with (100, at most 1000)."
        ),
    ] = None,
    limit: Annotated[int | None, Query(ge=0, le=MAX_TAKE, description="Alias of take.")] = None,
    fields: Annotated[FieldsText | None, Query(description=_FIELDS)] = None,
    sort: Annotated[
        SortText | None,
        Query(
            description="Comma-separated fields, each ascending or with `-` descending: "
            "`-dateUpdated,name`. Ties are broken by id."
        ),
    ] = None,
    filter: Annotated[FilterText | None, Query()] = None,
    body: Annotated[ListQuery | None, Body()] = None,
) -> Response:
    from_body = body or ListQuery()
    # Both sources are validated already (what the query string overrides by the service,
    # below); the query string wins.
    query = ListQuery.model_construct(
        skip=skip if skip is not None else from_body.skip,
        take=next(
            (v for v in (take, limit, from_body.take, from_body.limit) if v is not None), None
        ),
        fields=fields if fields is not None else from_body.fields,
        sort=sort if sort is not None else from_body.sort,
        filter=filter if filter is not None else from_body.filter,
    )
    overridden = None
    if body is not None:
        overridden = ListQuery.model_construct(
            filter=body.filter if filter is not None else None,
            sort=body.sort if sort is not None else None,
            fields=body.fields if fields is not None else None,
        )

    def page_of_boards() -> bytes:
        if overridden is not None:
            # What the query string overrides is not used, and must be valid all the same.
            list_query.compile_list_query(
                overridden.filter,
                overridden.sort,
                overridden.fields,
                QueryContext(caller, database.dialect),
            )
        # Serialized by the service, as _board's are.
        return listing.list_page(database, caller, query, limits)

    page = await anyio.to_thread.run_sync(page_of_boards, limiter=request.app.state.list_threads)
    return Response(page, media_type="application/json")


@router.get(
    "/reports",
    response_model=list[ReportSummary],
    summary="Get the Performance and Process reports",
    description="Gets the Performance and Process reports of the caller's account: every "
    "account has both. They are dashboards (`isReport: true`, tags `performance-report` and "
    "`process-report`) that the other operations read and change like any other.",
    responses=problem_responses(*_COMMON)
    | {200: {"description": "The reports the caller may read."}},
)
def get_reports(database: DatabaseDep, caller: CallerDep) -> list[dict[str, str]]:
    return service.reports(database, caller)


@router.get(
    "/tags/usages",
    response_model=TagUsageList,
    response_model_exclude_unset=True,
    summary="Get the labels used on dashboards, with the dashboards that carry each",
    description="Gets the labels (`tags`) applied to the dashboards the caller may read, "
    "grouped by name, each with the ids of the dashboards that carry it in the order they "
    "were created. Labels nested in a label's `items` are not counted on their own.",
    responses=problem_responses(*_COMMON) | {200: {"description": "One entry per label name."}},
)
def get_tag_usages(
    database: DatabaseDep,
    caller: CallerDep,
    fields: Annotated[FieldsText | None, Query(description=_FIELDS)] = None,
) -> dict[str, Any]:
    return service.tag_usages(database, caller, fields)


@router.get(
    "/tag/{tag}",
    response_model=DashboardPublic,
    summary="Get the dashboard with a tag",
    description="Gets the dashboard with the specified tag; a tag is unique in its account. "
    "404 when there is none or the caller may not read it.",
    responses=problem_responses(*_COMMON, 404)
    | {200: {"description": "The dashboard.", "headers": _ETAG}},
)
def get_dashboard_by_tag(
    tag: Annotated[str, Path(description="The dashboard's tag, unique in its account.")],
    database: DatabaseDep,
    caller: CallerDep,
) -> Response:
    if not re.match(TAG_PATTERN, tag):
        raise NotFound("No dashboard with that tag.")
    return board_response(service.get_by_tag(database, caller, tag))


@router.put(
    "/items/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Save an item on a dashboard, or its whole layout",
    description="Saves an insight (dashboardItem) on an insightboard (dashboard); `id` is "
    "the dashboard's id. One item is upserted by its `id` (added with a new id when it has "
    "none); a JSON array of items replaces the board's whole layout. A body that names no "
    "item (no `id`, `type`, insight field, header, `row`, `col`, `sizeX` or `sizeY`), such "
    "as the vendor page's dashboard-shaped sample, saves nothing: 204 with the version "
    "unchanged. Needs `update`. " + _IF_MATCH_MERGES,
    responses=problem_responses(*_COMMON, 404, 412)
    | {204: {"description": "Saved", "headers": _ETAG | _MERGED}},
)
def save_dashboard_items(
    id: Annotated[str, Path(description="The id of the dashboard whose items are saved.")],
    database: DatabaseDep,
    caller: CallerDep,
    if_match: IfMatchDep,
    limits: LimitsDep,
    body: Annotated[DashboardItemIn | list[DashboardItemIn], Body()],
) -> Response:
    _check_id(id)
    version, merged_from = service.save_items(database, caller, id, body, if_match, limits)
    headers = {"ETag": _etag(version)}
    if merged_from is not None:
        headers[MERGED_FROM] = str(merged_from)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DashboardPublic,
    summary="Create a dashboard",
    description="Creates a new dashboard in the caller's account, owned by the caller. A "
    "`tag` is unique in its account (409 when taken); without one the service makes one up. "
    "`settings` may come in the vendor's one-string form. The plan caps the number of "
    "dashboards (402). The answer holds the dashboard, its URL in `Location` and its version "
    "in `ETag`.",
    responses=problem_responses(*_COMMON, 409)
    | {201: {"description": "Created.", "headers": _LOCATION | _ETAG}},
)
def create_dashboard(
    body: DashboardCreate,
    request: Request,
    database: DatabaseDep,
    caller: CallerDep,
    limits: LimitsDep,
) -> Response:
    created = creating.create(database, caller, body, limits)
    return board_response(created, status.HTTP_201_CREATED, f"{request.url.path}/{created.id}")


# --- the trash (dashboards/trash.py); before /{dashboardId}, which "trash" would match ------

# Named apart from `dashboardId`: a board that id names is live, and one in the trash is not.
TrashedId = Annotated[str, Path(description="A deleted dashboard's id, as the trash lists it.")]
_NOT_IN_TRASH = "The trash holds no such dashboard."


@router.get(
    "/trash",
    response_model=TrashPage,
    summary="List the trash",
    description="The deleted boards of the account that the caller may delete (by their "
    "access when deleted), last deleted first, with `totalCount`. A deleted board stays "
    "here for 30 days unless the server is set otherwise, then is purged.",
    responses=problem_responses(*_COMMON) | {200: {"description": "A page of deleted boards."}},
)
def list_trash(
    database: DatabaseDep,
    caller: CallerDep,
    skip: PageSkip = 0,
    take: PageTake = 100,
) -> Response:
    return json_response(trash.trashed(database, caller, skip, take))


@router.delete(
    "/trash/{trashedId}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Purge a deleted dashboard",
    description="Removes a board from the trash for good, with its history. Needs `delete` "
    "on it (by its access when deleted).",
    responses=problem_responses(*_COMMON, 404) | {204: {"description": "Purged."}},
)
def purge_dashboard(trashedId: TrashedId, database: DatabaseDep, caller: CallerDep) -> Response:
    _check_id(trashedId, _NOT_IN_TRASH)
    trash.purge(database, caller, trashedId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{trashedId}/undelete",
    response_model=DashboardPublic,
    summary="Undelete a dashboard",
    description="Puts a deleted board back as it was: its id, tag, version, items, labels "
    "and access. Needs `delete` on it (by its access when deleted), and room under the "
    "plan's cap; 409 if another board took its tag meanwhile.",
    responses=problem_responses(*_COMMON, 404, 409)
    | {200: {"description": "The dashboard, back.", "headers": _ETAG}},
)
def undelete_dashboard(trashedId: TrashedId, database: DatabaseDep, caller: CallerDep) -> Response:
    _check_id(trashedId, _NOT_IN_TRASH)
    return board_response(trash.undelete(database, caller, trashedId))


@router.get(
    "/{dashboardId}",
    response_model=DashboardPublic,
    summary="Get a dashboard",
    description="Gets a dashboard by its unique identifier (id). Needs `read`; "
    "`currentUserAllowedActions` and `readOnly` say what the caller may do with it. The "
    "`ETag` is its version, for `If-Match`.",
    responses=problem_responses(*_COMMON, 404)
    | {200: {"description": "The dashboard.", "headers": _ETAG}},
)
def get_dashboard(dashboardId: DashboardId, database: DatabaseDep, caller: CallerDep) -> Response:
    _check_id(dashboardId)
    return board_response(service.get(database, caller, dashboardId))


@router.put(
    "/{dashboardId}",
    response_model=DashboardPublic,
    summary="Update a dashboard",
    description="Updates the dashboard with the specified id: fields present in the body "
    "replace the stored ones; fields absent keep their value. A body with no field a PUT "
    "changes is a 400; a PUT that changes nothing keeps the version. Needs `update` (and "
    "`modifyPermissions` to change `access`). " + _IF_MATCH_MERGES,
    responses=problem_responses(*_COMMON, 404, 409, 412)
    | {200: {"description": "The updated dashboard.", "headers": _ETAG | _MERGED}},
)
def update_dashboard(
    dashboardId: DashboardId,
    body: DashboardUpdate,
    database: DatabaseDep,
    caller: CallerDep,
    if_match: IfMatchDep,
    limits: LimitsDep,
) -> Response:
    _check_id(dashboardId)
    if not body.model_fields_set:
        # `{"titel": "New"}` would otherwise answer 200 and change nothing.
        raise BadRequest(
            "The body holds no field a PUT changes; send one or more of: "
            f"{', '.join(DashboardUpdate.model_fields)}."
        )
    return board_response(service.update(database, caller, dashboardId, body, if_match, limits))


@router.delete(
    "/{dashboardId}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a dashboard",
    description="Deletes the dashboard with the specified id, its items and labels: it moves "
    "to the trash (`GET /dashboards/trash`), from which it can be undeleted. Needs `delete`; "
    "with `If-Match`, 412 when the board changed since.",
    responses=problem_responses(*_COMMON, 404, 412) | {204: {"description": "Deleted."}},
)
def delete_dashboard(
    dashboardId: DashboardId, database: DatabaseDep, caller: CallerDep, if_match: IfMatchDep
) -> Response:
    _check_id(dashboardId)
    service.delete(database, caller, dashboardId, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{dashboardId}/clone",
    status_code=status.HTTP_201_CREATED,
    response_model=DashboardPublic,
    summary="Clone a dashboard",
    description="Clones an already existing dashboard, under the `tag` in the body (made up "
    "when absent). Needs `read` on the source; the clone is owned by the caller and shared "
    "as its source is. The items get new ids.",
    responses=problem_responses(*_COMMON, 404, 409)
    | {201: {"description": "Created.", "headers": _LOCATION | _ETAG}},
)
def clone_dashboard(
    dashboardId: DashboardId,
    request: Request,
    database: DatabaseDep,
    caller: CallerDep,
    limits: LimitsDep,
    body: Annotated[CloneRequest | None, Body()] = None,
) -> Response:
    _check_id(dashboardId)
    clone = creating.clone(database, caller, dashboardId, body or CloneRequest(), limits)
    base = request.url.path.removesuffix(f"/{dashboardId}/clone")
    return board_response(clone, status.HTTP_201_CREATED, f"{base}/{clone.id}")


# --- history (dashboards/history.py) --------------------------------------------------------


class JsonPatchResponse(JSONResponse):
    """A JSON Patch, already serialized (JSONResponse: FastAPI documents its schema)."""

    media_type = JSON_PATCH

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="A version of the board.")]
_VERSION_STORED = (
    "The board as that version left it, without the fields that depend on who asks "
    "(`usersCount`, `currentUserAllowedActions`, `readOnly`)."
)


@router.get(
    "/{dashboardId}/versions",
    response_model=VersionList,
    summary="List a dashboard's versions",
    description="The versions the board keeps, newest first: each with its kind (how it was "
    "made), its author, its time and the top-level fields it changed; `totalCount` counts "
    "them all. Every change makes one (create, clone, PUT, item or layout save, restore). "
    "A board keeps its last 100 versions unless the server is set otherwise. Needs `read`.",
    responses=problem_responses(*_COMMON, 404) | {200: {"description": "A page of versions."}},
)
def list_versions(
    dashboardId: DashboardId,
    database: DatabaseDep,
    caller: CallerDep,
    skip: PageSkip = 0,
    take: PageTake = 100,
) -> Response:
    _check_id(dashboardId)
    return json_response(history.versions(database, caller, dashboardId, skip, take))


@router.get(
    "/{dashboardId}/versions/{version}",
    response_model=DashboardStored,
    summary="Get a version of a dashboard",
    description=f"{_VERSION_STORED} 404 for a version the board does not keep. Needs `read`.",
    responses=problem_responses(*_COMMON, 404)
    | {200: {"description": "The board at that version."}},
)
def get_version(
    dashboardId: DashboardId, version: VersionNumber, database: DatabaseDep, caller: CallerDep
) -> Response:
    _check_id(dashboardId)
    document = history.version_document(database, caller, dashboardId, version)
    return Response(document, media_type="application/json")


@router.get(
    "/{dashboardId}/versions/{version}/diff/{other}",
    response_model=list[PatchOperation],
    summary="Compare two versions of a dashboard",
    description="The JSON Patch (RFC 6902) that turns the first version of the board into the "
    "second (either may be older), over the documents `GET .../versions/{version}` answers. "
    "Needs `read`.",
    response_class=JsonPatchResponse,
    responses=problem_responses(*_COMMON, 404) | {200: {"description": "The patch."}},
)
def diff_versions(
    dashboardId: DashboardId,
    version: VersionNumber,
    other: VersionNumber,
    database: DatabaseDep,
    caller: CallerDep,
) -> Response:
    _check_id(dashboardId)
    return JsonPatchResponse(history.diff(database, caller, dashboardId, version, other))


@router.post(
    "/{dashboardId}/versions/{version}/restore",
    response_model=DashboardPublic,
    summary="Restore a version of a dashboard",
    description="Makes a new version of the board equal to that one, as a PUT of its "
    "document would (the stamps of the change are the restore's). Needs `update`, and "
    "`modifyPermissions` when the version's access differs; with `If-Match`, 412 when the "
    "board changed since. 409 if another board took the version's tag since. A board that "
    "is that version already keeps its version.",
    responses=problem_responses(*_COMMON, 404, 409, 412)
    | {200: {"description": "The restored dashboard.", "headers": _ETAG}},
)
def restore_version(
    dashboardId: DashboardId,
    version: VersionNumber,
    database: DatabaseDep,
    caller: CallerDep,
    if_match: IfMatchDep,
    limits: LimitsDep,
) -> Response:
    _check_id(dashboardId)
    return board_response(service.restore(database, caller, dashboardId, version, if_match, limits))
