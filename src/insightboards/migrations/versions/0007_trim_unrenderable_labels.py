"""Label trees too deep to render are cut at a depth that renders

Before labels were bounded (schemas.MAX_LABEL_DEPTH), a board could be stored with labels
nested ~125 levels deep, past the JSON renderer's recursion limit: every list of its
account then failed. Such trees are cut below RENDERABLE_DEPTH levels (the deeper labels
are dropped); shallower trees, readable all along, are left as they are.

Revision ID: 0007
Revises: 0006
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# A page nests 4 levels above a label, and each label level 2 more: 100 levels of labels
# render at depth 204, well inside orjson's 255.
RENDERABLE_DEPTH = 100
# A nested label is at least ~110 characters of JSON; a shorter `children` cannot be too deep.
_SHORTEST_TOO_DEEP = 100 * (RENDERABLE_DEPTH - 1)


def trimmed(children: list[dict[str, Any]], depth: int) -> tuple[list[dict[str, Any]], bool]:
    """`children` of a label at `depth` (the row's own label is at 1), cut below
    RENDERABLE_DEPTH; and whether anything was cut."""
    if not children:
        return children, False
    if depth >= RENDERABLE_DEPTH:
        return [], True
    cut_any = False
    kept = []
    for child in children:
        items, cut = trimmed(child.get("items") or [], depth + 1)
        cut_any |= cut
        kept.append({**child, "items": items})
    return kept, cut_any


def upgrade() -> None:
    connection = op.get_bind()
    labels = sa.table(
        "dashboard_labels",
        sa.column("account_id"),
        sa.column("dashboard_id"),
        sa.column("position"),
        sa.column("children", sa.JSON),
    )
    long_enough = sa.func.length(sa.cast(labels.c.children, sa.Text)) > _SHORTEST_TOO_DEEP
    rows = connection.execute(
        sa.select(
            labels.c.account_id, labels.c.dashboard_id, labels.c.position, labels.c.children
        ).where(long_enough)
    ).all()
    for account_id, dashboard_id, position, stored in rows:
        children, cut = trimmed(stored, 1)
        if cut:
            connection.execute(
                labels.update()
                .where(
                    labels.c.account_id == account_id,
                    labels.c.dashboard_id == dashboard_id,
                    labels.c.position == position,
                )
                .values(children=children)
            )


def downgrade() -> None:
    pass  # what was cut is gone
