"""Request shapes of the Dashboards API, and the value types both they and the responses
(responses.py) are made of.

Field names are the API's own (camelCase). Inputs ignore unknown keys and accept the
vendor's odd forms (settings as one string, `isActive` as `{"IsActive": bool}`, a grant as a
bare list of actions).
"""

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from insightboards.access import Action
from insightboards.clock import normalize_timestamp
from insightboards.query.fields import SORT_PATTERN
from insightboards.query.projection import FIELDS_PATTERN, MAX_FIELDS_LENGTH

# No text may hold NUL: PostgreSQL refuses it, and the OpenAPI document says so.
NoNul = Field(pattern=r"^[^\x00]*$")


def empty_list() -> Any:
    """A list field's default: an empty list, made anew for each model and documented as
    `[]`. pydantic copies a `[]` default with copy.deepcopy for every model it builds, a
    tenth of a create's validation (a board's items each have three such fields)."""
    return Field(default_factory=list, json_schema_extra={"default": []})


# Bounded strings: the bounds match the columns, so no database ever truncates or refuses.
Text = Annotated[str, StringConstraints(max_length=10_000), NoNul]
ShortText = Annotated[str, StringConstraints(max_length=500), NoNul]
LongText = Annotated[str, StringConstraints(max_length=1000), NoNul]
LayoutText = Annotated[str, StringConstraints(max_length=200), NoNul]


def _timestamp(value: str) -> str:
    normalized = normalize_timestamp(value)
    if normalized is None:
        raise ValueError("must be an ISO 8601 date or timestamp")
    return normalized


# Stored as ISO 8601 UTC with milliseconds, whatever ISO form it came in.
# Documented as RFC 3339 (`format: date-time`); plain ISO dates are accepted as well.
Timestamp = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_timestamp),
    Field(json_schema_extra={"format": "date-time"}),
]
# The grammars of `fields` and `sort`, as patterns for the OpenAPI document; the parsers
# (query/projection.py, dashboards/service.py) enforce them and name what is wrong.
FieldsText = Annotated[
    str,
    StringConstraints(max_length=MAX_FIELDS_LENGTH),
    Field(json_schema_extra={"pattern": FIELDS_PATTERN}),
]
SortText = Annotated[
    str, StringConstraints(max_length=1000), Field(json_schema_extra={"pattern": SORT_PATTERN})
]
FilterText = Annotated[str, StringConstraints(max_length=100_000), NoNul]
Name = Annotated[str, StringConstraints(min_length=1, max_length=500), NoNul]
LabelName = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]
TAG_PATTERN = r"^[A-Za-z0-9._~-]{1,64}$"
DashboardTag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]


def _whole_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# JSON Schema's `integer`: 3 and 3.0, never `true` or `"3"` (the models are strict).
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
# Constraints before the validator, so that they stay in the JSON Schema.
GridPosition = Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_whole_number)]
GridSize = Annotated[int, Field(ge=1, le=100_000), BeforeValidator(_whole_number)]
READ_ONLY: dict[str, Any] = {"readOnly": True}

# Breadth of every list inside a board (the OpenAPI document states each as maxItems). The
# board-wide counts of items and labels are settings (dashboards/limits.py): they depend on
# what the board already holds.
MAX_LIST = 100
MAX_PREDEFINED_VALUES = 1000
MAX_PERMISSIONS = 500
MAX_GRANT_ACTIONS = 16
# Labels nest (`items`); deeper trees are refused, so that every stored one renders.
MAX_LABEL_DEPTH = 10


class ApiModel(BaseModel):
    # Strict: a JSON `false` is not the number 0, nor `"3"` the number 3; what the OpenAPI
    # document says is a number must be one.
    model_config = ConfigDict(extra="ignore", strict=True)


# --- settings -----------------------------------------------------------------------------

_SETTING_PAIR = re.compile(r'\s*(\w+)\s*:\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_setting_string(text: str) -> dict[str, str]:
    """Parse the vendor's one-string form `name: "session", value: "...", ...` to an object."""
    result: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _SETTING_PAIR.match(text, position)
        if match is None or match.end() == position:
            raise ValueError('expected a list of settings or `key: "value", ...`')
        result[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))
        position = match.end()
    if not result:
        raise ValueError('expected a list of settings or `key: "value", ...`')
    return result


def _settings_from_string(value: Any) -> Any:
    return [parse_setting_string(value)] if isinstance(value, str) else value


class DynamicValue(ApiModel):
    teamId: ShortText | None = None
    type: ShortText | None = None


class Setting(ApiModel):
    name: ShortText | None = None
    value: Text | None = None
    valueDisplayName: Text | None = None
    valueDisplayNameAsArray: Annotated[list[Text], Field(max_length=MAX_LIST)] = empty_list()
    dynamicValues: Annotated[list[DynamicValue], Field(max_length=MAX_LIST)] = empty_list()


# The one-string form as the OpenAPI document states it: what parse_setting_string reads,
# with no NUL (no text field holds one), no key whose value must be a list, and values of at
# most 500 characters (what every text field of a setting takes).
_SETTING_KEY = r"(?!(?:valueDisplayNameAsArray|dynamicValues)\b)\w+"
_SETTING_VALUE = r'"(?:[^"\\\x00]|\\[^\x00\n]){0,500}"'
_SETTING_STRING_PAIR = r"\s*" + _SETTING_KEY + r"\s*:\s*" + _SETTING_VALUE + r"\s*"
SETTING_STRING_PATTERN = f"^{_SETTING_STRING_PAIR}(?:,{_SETTING_STRING_PAIR})*,?$"
SettingList = Annotated[list[Setting], Field(max_length=MAX_LIST)]
SettingString = Annotated[
    str,
    Field(
        pattern=SETTING_STRING_PATTERN,
        description='A setting in the vendor\'s one-string form: `name: "session", value: "..."`.',
    ),
]
Settings = Annotated[
    SettingList,
    BeforeValidator(_settings_from_string, json_schema_input_type=SettingList | SettingString),
]


class Parameter(ApiModel):
    id: ShortText | None = None
    key: ShortText | None = None
    title: ShortText | None = None
    defaultValue: Text | None = None
    entityName: ShortText | None = None
    entityTitleField: ShortText | None = None
    entityValueField: ShortText | None = None
    predefinedValues: Annotated[list[Text], Field(max_length=MAX_PREDEFINED_VALUES)] = empty_list()
    selectorType: ShortText | None = None


Parameters = Annotated[list[Parameter], Field(max_length=MAX_LIST)]


# --- labels (`tags`) ------------------------------------------------------------------------


class WrappedIsActive(BaseModel):
    """The vendor's `{"IsActive": false}` form of a label's isActive."""

    model_config = ConfigDict(extra="forbid", strict=True)
    IsActive: bool


def _unwrap_is_active(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"IsActive"}:
        return value["IsActive"]
    return value


class LabelIn(ApiModel):
    id: Identifier | None = None
    name: LabelName
    title: ShortText | None = None
    isActive: Annotated[
        bool, BeforeValidator(_unwrap_is_active, json_schema_input_type=bool | WrappedIsActive)
    ] = True
    createdBy: Identifier | None = None
    dateCreated: Timestamp | None = None
    items: list["LabelIn"] = empty_list()


def _bounded_nesting(labels: list[LabelIn]) -> list[LabelIn]:
    level, depth = labels, 0
    while level:
        depth += 1
        if depth > MAX_LABEL_DEPTH:
            raise ValueError(f"labels may nest at most {MAX_LABEL_DEPTH} levels deep")
        level = [child for label in level for child in label.items]
    return labels


Labels = Annotated[
    list[LabelIn],
    AfterValidator(_bounded_nesting),
    Field(
        description=f"Labels; a label may hold labels in `items`, {MAX_LABEL_DEPTH} levels deep."
    ),
]


# --- access ---------------------------------------------------------------------------------


def _grant_from_list(value: Any) -> Any:
    return {"general": value} if isinstance(value, list) else value


GrantActions = Annotated[list[Action], Field(max_length=MAX_GRANT_ACTIONS)]


class GrantIn(ApiModel):
    general: GrantActions = empty_list()


# A bare list of actions stands for `{"general": [...]}`.
GrantInput = Annotated[
    GrantIn, BeforeValidator(_grant_from_list, json_schema_input_type=GrantIn | GrantActions)
]


class OwnerPermissionsIn(ApiModel):
    grant: GrantInput | None = None
    deny: GrantInput | None = None


class PermissionIn(ApiModel):
    principalKind: Literal["user", "team", "role", "account"]
    principalId: Identifier
    grant: GrantInput


class AccessIn(ApiModel):
    inherits: bool = True
    ownerPermissions: OwnerPermissionsIn | None = None
    permissions: Annotated[list[PermissionIn], Field(max_length=MAX_PERMISSIONS)] = empty_list()


# --- dashboard items --------------------------------------------------------------------------


class RequiredEntity(ApiModel):
    dataSourceIds: Annotated[list[ShortText], Field(max_length=MAX_LIST)] = empty_list()
    entityName: ShortText | None = None
    isMissing: bool = False
    remoteEntityName: ShortText | None = None


class InsightSource(ApiModel):
    originalVersion: ShortText | None = None
    sourceApplication: ShortText | None = None


class InsightStateMetadata(ApiModel):
    connectorName: ShortText | None = None
    count: WholeNumber | None = None
    datasourceId: ShortText | None = None
    names: Text | None = None
    type: ShortText | None = None


class InsightState(ApiModel):
    error: Text | None = None
    metadata: InsightStateMetadata | None = None
    status: ShortText | None = None


class SectionHeaderContentIn(ApiModel):
    header: LongText | None = None
    subHeader: LongText | None = None


SECTION_HEADER = "sectionHeader"


class DashboardItemIn(ApiModel):
    """One dashboard item: an insight, or a section header (`type: "sectionHeader"`).

    A section header's text may come flat (`header`, `subHeader`) or nested under
    `sectionHeader`, as in the responses.
    """

    id: Identifier | None = None
    type: ShortText | None = None
    row: GridPosition = 0
    col: GridPosition = 0
    sizeX: GridSize = 1
    sizeY: GridSize = 1
    insightId: Identifier | None = None
    insightName: ShortText | None = None
    insightTitle: ShortText | None = None
    filters: Annotated[list[Text], Field(max_length=MAX_LIST)] = empty_list()
    settings: Settings = empty_list()
    insightRequiredEntities: Annotated[list[RequiredEntity], Field(max_length=MAX_LIST)] = (
        empty_list()
    )
    insightSource: InsightSource | None = None
    insightState: InsightState | None = None
    header: LongText | None = None
    subHeader: LongText | None = None
    sectionHeader: SectionHeaderContentIn | None = None

    @property
    def is_section_header(self) -> bool:
        return self.type == SECTION_HEADER or self.sectionHeader is not None

    @property
    def says_which_item(self) -> bool:
        """Whether the body names, places or describes an item, beyond the settings and
        filters a dashboard-shaped body may hold too (the vendor page's sample item save
        is a dashboard's name, tag, labels and `settings`)."""
        return not self.model_fields_set <= {"settings", "filters", "insightRequiredEntities"}

    @property
    def header_text(self) -> tuple[str | None, str | None]:
        if self.sectionHeader is not None:
            return (
                self.sectionHeader.header or self.header,
                self.sectionHeader.subHeader or self.subHeader,
            )
        return self.header, self.subHeader


# --- dashboards -------------------------------------------------------------------------------


class DashboardCreate(ApiModel):
    name: Name
    tag: DashboardTag | None = None
    archived: bool = False
    layout: LayoutText | None = None
    settings: Settings = empty_list()
    parameters: Parameters = empty_list()
    tags: Labels = empty_list()
    access: AccessIn | None = None
    insights: list[DashboardItemIn] = empty_list()
    sectionHeaders: list[DashboardItemIn] = empty_list()


# Fields a PUT may set to null; any other field sent as null is a 400.
_NULLABLE_ON_UPDATE = frozenset({"layout"})


def without_null(schema: dict[str, Any]) -> None:
    """A JSON Schema of pydantic's for an optional value (`anyOf: [..., {type: null}]`)
    changed in place to refuse null: the value may be left out, not sent as null."""
    kinds = schema.get("anyOf")
    if kinds is None:
        return
    kinds = [kind for kind in kinds if kind.get("type") != "null"]
    if len(kinds) == 1:
        del schema["anyOf"]
        schema.update(kinds[0])
    else:
        schema["anyOf"] = kinds


def _update_schema(schema: dict[str, Any]) -> None:
    """In the OpenAPI document, a PUT field may be left out but not sent as null (layout
    aside), and a body holds at least one of them."""
    for name, field in schema.get("properties", {}).items():
        if name not in _NULLABLE_ON_UPDATE:
            without_null(field)
    schema["anyOf"] = [{"required": [name]} for name in schema.get("properties", {})]


class DashboardUpdate(ApiModel):
    """A PUT body: fields present replace the stored ones, fields absent keep their value."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_update_schema)

    name: Name | None = None
    tag: DashboardTag | None = None
    archived: bool | None = None
    layout: LayoutText | None = None
    settings: Settings | None = None
    parameters: Parameters | None = None
    tags: Labels | None = None
    access: AccessIn | None = None
    insights: list[DashboardItemIn] | None = None
    sectionHeaders: list[DashboardItemIn] | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "DashboardUpdate":
        for name in self.model_fields_set - _NULLABLE_ON_UPDATE:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class CloneRequest(ApiModel):
    tag: DashboardTag | None = None


# Paging bounds; beyond them a database integer would overflow.
MAX_SKIP = 2**31 - 1
MAX_TAKE = 1000
Skip = Annotated[int, Field(ge=0, le=MAX_SKIP), BeforeValidator(_whole_number)]
Take = Annotated[int, Field(ge=0, le=MAX_TAKE), BeforeValidator(_whole_number)]


class ListQuery(ApiModel):
    """List parameters, as a JSON body of the GET (the query string wins over it)."""

    # A misspelt key (`{"filtr": ...}`) is refused: ignored, it would list every board.
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                raise ValueError(
                    f"unknown key {unknown[0]!r}; a list's body holds {', '.join(cls.model_fields)}"
                )
        return data

    filter: dict[str, Any] | FilterText | None = None
    sort: SortText | None = None
    fields: FieldsText | None = None
    skip: Skip | None = None
    take: Take | None = None
    limit: Take | None = None
