"""How much one board may hold, and how long one list may run: the settings' bounds.

A request is checked against the counts before its transaction begins, so that no
oversized input ever holds SQLite's write lock; the board as it stands after a change (an
item added to a full board, parts merged by a PUT) is checked before the change commits.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from insightboards.config import Settings
from insightboards.dashboards.schemas import MAX_PREDEFINED_VALUES, LabelIn
from insightboards.errors import BadRequest, ContentTooLarge

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    items_per_board: int
    labels_per_board: int
    board_bytes: int
    list_time_limit_ms: int
    # The history a board keeps (0: no bound): versions, and days.
    versions_kept: int = 0
    version_days_kept: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            items_per_board=settings.max_items_per_board,
            labels_per_board=settings.max_labels_per_board,
            board_bytes=settings.max_board_bytes,
            list_time_limit_ms=settings.list_time_limit_ms,
            versions_kept=settings.history_keep_versions,
            version_days_kept=settings.history_keep_days,
        )

    @property
    def longest_list(self) -> int:
        """The most elements any array of a request may have: the board-wide counts, or the
        longest list a schema allows."""
        return max(MAX_PREDEFINED_VALUES, self.items_per_board, self.labels_per_board)

    def check_counts(self, items: int | None = None, labels: int | None = None) -> None:
        """BadRequest when a board would hold more items or labels (nested ones included)
        than allowed; None counts are not checked."""
        if items is not None and items > self.items_per_board:
            raise BadRequest(
                f"A dashboard holds at most {self.items_per_board} items (insights and "
                f"section headers); this one would hold {items}."
            )
        if labels is not None and labels > self.labels_per_board:
            raise BadRequest(
                f"A dashboard holds at most {self.labels_per_board} labels, nested ones "
                f"included; this one would hold {labels}."
            )

    def check_board(self, document: dict[str, Any], size: int) -> None:
        """The counts of a board as it would be stored (its API document), and its size in
        bytes of JSON."""
        self.check_counts(
            items=document["insightsCount"] + document["sectionHeadersCount"],
            labels=count_nested(document["tags"], lambda label: label["items"]),
        )
        if size > self.board_bytes:
            raise ContentTooLarge(
                f"A dashboard's document may be at most {self.board_bytes} bytes of JSON; "
                f"this one would be {size}."
            )


def count_nested(roots: Iterable[T], children: Callable[[T], Iterable[T]]) -> int:
    """The nodes of a forest (labels hold labels): the roots and all their descendants."""
    count, pending = 0, list(roots)
    while pending:
        node = pending.pop()
        count += 1
        pending.extend(children(node))
    return count


# The settings' defaults, for callers without settings of their own (tests, benchmarks).
DEFAULT_LIMITS = Limits.from_settings(Settings.model_construct())


def labels_in(labels: Sequence[LabelIn]) -> int:
    """How many labels `labels` holds, nested ones included (what MAX_LABELS bounds)."""
    return count_nested(labels, lambda label: label.items)
