import pytest

from insightboards.errors import BadRequest
from insightboards.query.projection import apply, parse_fields


def test_parses_flat_and_nested_fields() -> None:
    assert parse_fields("name,createdById,metrics{name,attainment}") == {
        "name": None,
        "createdById": None,
        "metrics": {"name": None, "attainment": None},
    }
    assert parse_fields(" name , insights{ insightId , row } ,tag") == {
        "name": None,
        "insights": {"insightId": None, "row": None},
        "tag": None,
    }
    assert parse_fields("a{b{c}}") == {"a": {"b": {"c": None}}}


@pytest.mark.parametrize(
    "text", ["a{b", "{a}", "a}b", "a{b}}", "na me", "a;b", "x" * 3000, "a{" * 20]
)
def test_rejects_malformed_projections(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_fields(text)


def test_apply_keeps_projected_fields_and_always_fields() -> None:
    document = {
        "id": "1",
        "accountId": "a",
        "name": "n",
        "tag": "t",
        "insights": [{"insightId": "i", "row": 1, "col": 2}],
        "access": {"inherits": True, "permissions": []},
    }
    projection = parse_fields("name,insights{insightId},access{inherits},missing")
    assert apply(document, projection, always=("id", "accountId")) == {
        "id": "1",
        "accountId": "a",
        "name": "n",
        "insights": [{"insightId": "i"}],
        "access": {"inherits": True},
    }
