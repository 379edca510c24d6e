"""Response shapes of the Dashboards API: they mirror the vendor's sample response key for
key (the OpenAPI document's schemas; the answers themselves are rendered from the stored
documents, dashboards/documents.py)."""

from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, create_model

from insightboards.access import ACTIONS, Action
from insightboards.dashboards.schemas import (
    READ_ONLY,
    ApiModel,
    InsightSource,
    InsightState,
    Parameter,
    RequiredEntity,
    Setting,
)


class Label(ApiModel):
    id: str
    name: str
    title: str | None
    isActive: bool
    createdBy: str | None
    dateCreated: str | None
    items: list["Label"]


class Grant(ApiModel):
    general: list[Action] = Field(examples=[list(ACTIONS)])


class OwnerPermissions(ApiModel):
    grant: Grant
    deny: Grant


class Permission(ApiModel):
    principalKind: Literal["user", "team", "role", "account"]
    principalId: str
    grant: Grant


class Access(ApiModel):
    inherits: bool
    ownerPermissions: OwnerPermissions
    permissions: list[Permission]


class InsightItem(ApiModel):
    id: str
    dashboardId: str
    type: str | None
    row: int
    col: int
    sizeX: int
    sizeY: int
    insightId: str | None
    insightName: str | None
    insightTitle: str | None
    filters: list[str]
    settings: list[Setting]
    insightRequiredEntities: list[RequiredEntity]
    insightSource: InsightSource | None
    insightState: InsightState | None


class SectionHeaderContent(ApiModel):
    id: str
    accountId: str
    header: str | None
    subHeader: str | None
    createdById: str | None
    modifiedById: str | None
    dateCreated: str
    dateUpdated: str


class SectionHeaderItem(ApiModel):
    id: str
    accountId: str
    dashboardId: str
    type: str
    row: int
    col: int
    sizeX: int
    sizeY: int
    sectionHeaderId: str
    sectionHeader: SectionHeaderContent


class Source(ApiModel):
    sourceApplication: str | None
    sourceId: str | None


class DashboardStored(ApiModel):
    """A dashboard as every caller sees it alike: as stored, and as its history keeps it."""

    id: str = Field(json_schema_extra=READ_ONLY)
    accountId: str = Field(json_schema_extra=READ_ONLY)
    name: str
    tag: str
    archived: bool
    isReport: bool = Field(json_schema_extra=READ_ONLY)
    layout: str | None
    createdById: str = Field(json_schema_extra=READ_ONLY)
    dateCreated: str = Field(json_schema_extra=READ_ONLY)
    dateUpdated: str = Field(json_schema_extra=READ_ONLY)
    version: int = Field(json_schema_extra=READ_ONLY)
    access: Access
    settings: list[Setting]
    parameters: list[Parameter]
    tags: list[Label]
    insights: list[InsightItem]
    sectionHeaders: list[SectionHeaderItem]
    source: Source | None = Field(json_schema_extra=READ_ONLY)
    appsCount: int = Field(json_schema_extra=READ_ONLY)
    notificationsCount: int = Field(json_schema_extra=READ_ONLY)
    insightsCount: int = Field(json_schema_extra=READ_ONLY)
    sectionHeadersCount: int = Field(json_schema_extra=READ_ONLY)


class DashboardPublic(DashboardStored):
    """A dashboard as served: the vendor's keys, plus accountId, dates and version."""

    usersCount: int = Field(json_schema_extra=READ_ONLY)
    currentUserAllowedActions: list[Action] = Field(json_schema_extra=READ_ONLY)
    readOnly: bool = Field(json_schema_extra=READ_ONLY)


class ReportSummary(ApiModel):
    id: str
    name: str


class TagUsage(ApiModel):
    tagName: str
    tagTitle: str | None
    dashboardsCount: int
    dashboardsIds: list[str]


def _partial(
    model: type[BaseModel], cache: dict[type[BaseModel], type[BaseModel]]
) -> type[BaseModel]:
    """A copy of `model` whose fields, and those of nested models, may each be left out."""
    if model in cache:
        return cache[model]
    # A recursive model (labels nest labels) is projected as plain objects below its top.
    cache[model] = dict[str, Any]  # type: ignore[assignment]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _partial_annotation(info.annotation, cache) | None
        fields[name] = (annotation, Field(default=None, json_schema_extra=info.json_schema_extra))
    partial = create_model(f"{model.__name__}Projected", __base__=ApiModel, **fields)
    cache[model] = partial
    return partial


def _partial_annotation(annotation: Any, cache: dict[type[BaseModel], type[BaseModel]]) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _partial(annotation, cache)
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is list and args:
        return list[_partial_annotation(args[0], cache)]  # type: ignore[misc]
    if args and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _partial_annotation(inner[0], cache)
    return annotation


# A dashboard in a list, where `fields` may have left any field out.
DashboardProjected = _partial(DashboardPublic, {})


# A usage as `fields` may have trimmed it (`tagName` is always kept).
TagUsageProjected = _partial(TagUsage, {})


class TagUsageList(ApiModel):
    items: list[TagUsageProjected]  # type: ignore[valid-type]


class DashboardList(ApiModel):
    items: list[DashboardProjected]  # type: ignore[valid-type]
    count: int
    totalCount: int


VersionKind = Literal["create", "clone", "update", "access", "item", "layout", "restore", "earlier"]


class VersionSummary(ApiModel):
    """One version of a board: how it was made, by whom, when, and the top-level fields of
    the dashboard it changed."""

    version: int
    kind: VersionKind = Field(
        description="create, clone; update (a PUT), access (a PUT that changed only access), "
        "item (one item saved), layout (the whole layout saved), restore; earlier: the "
        "version a board had when history began to be kept, whose author is unknown."
    )
    userId: str | None
    date: str
    changedFields: list[str]


class VersionList(ApiModel):
    items: list[VersionSummary]
    totalCount: int


class PatchOperation(ApiModel):
    """One operation of a JSON Patch (RFC 6902)."""

    op: Literal["add", "remove", "replace", "move", "copy", "test"]
    path: str
    value: Any = None
    from_: str | None = Field(default=None, alias="from")


class TrashedBoard(ApiModel):
    """A deleted board, in the trash."""

    id: str
    name: str
    tag: str
    isReport: bool
    createdById: str
    version: int
    dateDeleted: str
    deletedById: str


class TrashPage(ApiModel):
    items: list[TrashedBoard]
    totalCount: int
