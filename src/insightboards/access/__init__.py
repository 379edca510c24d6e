"""Every access rule: what a caller may do with a board (rules.py, in Python), the same rules
as SQL (sql.py), and the rules about one board that the services apply before they write
(boards.py)."""

from insightboards.access.rules import (
    ACTION_BITS,
    ACTIONS,
    ALL_BITS,
    CREATOR_ROLES,
    PRINCIPAL_KINDS,
    READ,
    ROLES,
    Action,
    Caller,
    Grant,
    Policy,
    Role,
    allowed_actions,
    allowed_bits,
    everyone_reads,
    from_bits,
    to_bits,
)
from insightboards.access.sql import (
    ReadCount,
    allowed_predicate,
    caller_predicate,
    caller_predicate_on,
    caller_read_count,
    caller_reads_events,
    readers_expression,
)

__all__ = [
    "ACTIONS",
    "ACTION_BITS",
    "ALL_BITS",
    "CREATOR_ROLES",
    "PRINCIPAL_KINDS",
    "READ",
    "ROLES",
    "Action",
    "Caller",
    "Grant",
    "Policy",
    "ReadCount",
    "Role",
    "allowed_actions",
    "allowed_bits",
    "allowed_predicate",
    "caller_predicate",
    "caller_predicate_on",
    "caller_read_count",
    "caller_reads_events",
    "everyone_reads",
    "from_bits",
    "readers_expression",
    "to_bits",
]
