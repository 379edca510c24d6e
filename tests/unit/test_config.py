"""The CORS origins setting: a comma-separated list or a JSON list, each entry an origin
as a browser sends it (or `*`); anything else is refused at start, not silently unmatched."""

import pytest
from pydantic import ValidationError

from insightboards.config import Settings


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        (
            "https://a.example, http://localhost:8080/",
            ["https://a.example", "http://localhost:8080"],
        ),
        ('["https://okr.example.com"]', ["https://okr.example.com"]),
        ("*", ["*"]),
        ("http://[::1]:8080", ["http://[::1]:8080"]),
        ("", []),
        ("https://a.example, ", ["https://a.example"]),
        ("https://a.example, , https://b.example", ["https://a.example", "https://b.example"]),
    ],
)
def test_origins_are_read_from_either_list_form(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("INSIGHTBOARDS_CORS_ORIGINS", value)
    assert Settings().cors_origins == origins


@pytest.mark.parametrize(
    "value", ["okr.example.com", "ftp://a.example", "https://a.example/app", "[1]", "[oops"]
)
def test_what_is_not_an_origin_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("INSIGHTBOARDS_CORS_ORIGINS", value)
    with pytest.raises(ValidationError):
        Settings()
