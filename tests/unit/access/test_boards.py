"""The rules about one board that the services apply before they write (access/boards.py)."""

import pytest

from insightboards.access import READ, Caller, Role
from insightboards.access import boards as rules
from insightboards.errors import Forbidden, NotFound, PaymentRequired


def caller(role: Role) -> Caller:
    return Caller("a" * 24, "b" * 24, role)


def test_viewers_may_not_create_boards() -> None:
    rules.check_creator(caller("member"))
    rules.check_creator(caller("admin"))
    with pytest.raises(Forbidden, match="A viewer may not create dashboards"):
        rules.check_creator(caller("viewer"))


def test_a_change_of_access_alone_needs_modify_permissions_only() -> None:
    assert rules.needed_for_update({"access"}) == "modifyPermissions"
    assert rules.needed_for_update({"access", "name"}) == "update"
    assert rules.needed_for_update(set()) == "update"


def test_a_refused_action_says_what_was_refused() -> None:
    rules.check_allowed("update", ["read", "update"], is_report=False)
    with pytest.raises(Forbidden, match="You may not delete this dashboard"):
        rules.check_allowed("delete", ["read", "update"], is_report=False)
    with pytest.raises(Forbidden, match="Reports are read-only"):
        rules.check_allowed("update", ["read"], is_report=True)
    with pytest.raises(Forbidden, match="modify the permissions"):
        rules.check_may_change_permissions(["read", "update"])


def test_a_board_the_caller_may_not_read_is_not_confirmed_to_exist() -> None:
    rules.check_readable(READ, "Dashboard not found.")
    with pytest.raises(NotFound, match="No dashboard with tag 'x'"):
        rules.check_readable(0, "No dashboard with tag 'x'.")
    with pytest.raises(Forbidden):  # when the board was named otherwise
        rules.check_readable(0, "")


def test_a_clone_of_a_report_gets_the_default_access() -> None:
    assert rules.clone_keeps_access(source_is_report=False)
    assert not rules.clone_keeps_access(source_is_report=True)


def test_a_plan_caps_the_boards_an_account_owns() -> None:
    rules.check_plan_allows_another("free", None, owned=10_000)
    rules.check_plan_allows_another("team", 3, owned=2)
    with pytest.raises(PaymentRequired, match="plan 'team' allows at most 3 dashboards"):
        rules.check_plan_allows_another("team", 3, owned=3)
