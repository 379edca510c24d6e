import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from insightboards.dashboards.schemas import (
    SETTING_STRING_PATTERN,
    DashboardCreate,
    DashboardItemIn,
    DashboardUpdate,
    parse_setting_string,
    without_null,
)


def test_the_vendor_setting_string_becomes_an_object() -> None:
    text = 'name: "session", value: "602d03d90f20d5000195c7b3", valueDisplayName: "Q2"'
    assert parse_setting_string(text) == {
        "name": "session",
        "value": "602d03d90f20d5000195c7b3",
        "valueDisplayName": "Q2",
    }
    assert parse_setting_string(r'name: "a \"quoted\" name"') == {"name": 'a "quoted" name'}


@pytest.mark.parametrize(
    "text", ["", "name", "name: session", 'name: "x" value: "y"', 'name: "x",, ']
)
def test_malformed_setting_strings_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_setting_string(text)


def test_vendor_input_forms() -> None:
    body = DashboardCreate.model_validate(
        {
            "name": "OKR Performance",
            "settings": 'name: "session", value: "v"',
            "tags": [{"id": "string", "isActive": {"IsActive": False}, "name": "n"}],
            "access": {
                "permissions": [
                    {"principalKind": "role", "principalId": "member", "grant": ["read"]}
                ]
            },
        }
    )
    assert body.settings[0].name == "session" and body.settings[0].value == "v"
    assert body.tags[0].isActive is False
    assert body.access is not None and body.access.permissions[0].grant.general == ["read"]


def test_strings_with_nul_and_unknown_actions_are_rejected() -> None:
    with pytest.raises(ValidationError):
        DashboardCreate.model_validate({"name": "bad\x00name"})
    with pytest.raises(ValidationError):
        DashboardCreate.model_validate(
            {
                "name": "x",
                "access": {
                    "permissions": [{"principalKind": "user", "principalId": "u", "grant": ["own"]}]
                },
            }
        )


def test_update_rejects_null_for_required_fields_but_not_for_layout() -> None:
    with pytest.raises(ValidationError):
        DashboardUpdate.model_validate({"name": None})
    assert DashboardUpdate.model_validate({"layout": None}).model_fields_set == {"layout"}


def test_section_header_text_flat_or_nested() -> None:
    nested = DashboardItemIn.model_validate({"sectionHeader": {"header": "H", "subHeader": "S"}})
    flat = DashboardItemIn.model_validate(
        {"type": "sectionHeader", "header": "H", "subHeader": "S"}
    )
    assert nested.is_section_header and flat.is_section_header
    assert nested.header_text == flat.header_text == ("H", "S")
    assert not DashboardItemIn.model_validate({"insightId": "i"}).is_section_header


def test_without_null_makes_an_optional_value_plain() -> None:
    schema = {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}], "title": "Name"}
    without_null(schema)
    assert schema == {"type": "string", "maxLength": 5, "title": "Name"}


def test_without_null_keeps_the_other_kinds() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    without_null(schema)
    assert schema == {"anyOf": [{"type": "string"}, {"type": "integer"}]}


def test_without_null_leaves_a_schema_without_choices_alone() -> None:
    schema = {"type": "boolean"}
    without_null(schema)
    assert schema == {"type": "boolean"}


@settings(max_examples=300, deadline=None)
@given(st.from_regex(SETTING_STRING_PATTERN, fullmatch=True))
def test_every_setting_string_the_schema_admits_is_accepted(text: str) -> None:
    # The OpenAPI document states the one-string form by this pattern: a client that follows
    # it must never be refused.
    body = DashboardCreate.model_validate({"name": "x", "settings": text})
    assert len(body.settings) == 1
