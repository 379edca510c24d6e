"""The generated API tests (test_generated_api.py) on PostgreSQL, in a module of their own so
that the suite's two test processes run them beside the SQLite ones."""

from tests.e2e.test_generated_api import (
    served_on,
    test_every_operation_but_the_list_passes_every_check_in_every_phase,
    test_the_list_passes_every_check,
    test_v2_is_v1_under_another_prefix,
)

unthrottled_server = served_on("postgresql")

__all__ = [
    "test_every_operation_but_the_list_passes_every_check_in_every_phase",
    "test_the_list_passes_every_check",
    "test_v2_is_v1_under_another_prefix",
]
