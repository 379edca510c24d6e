"""When each API token was last used, without a write on the request's path.

A request notes its token here (a dict lookup, once the token is known to this process); a
task of the server writes what was noted, every FLUSH_SECONDS, in one transaction. A token
is noted at most once per RECORD_EVERY_SECONDS in a process, so its recorded last use is
exact to within that."""

import threading
import time

from insightboards.clock import now_iso

RECORD_EVERY_SECONDS = 3600.0
FLUSH_SECONDS = 1.0
# Past this many tokens seen, the process forgets when it recorded each (and records each
# once more): a bound on memory, whatever the number of tokens.
_REMEMBERED = 100_000


class TokenUses:
    def __init__(self, record_every_seconds: float = RECORD_EVERY_SECONDS) -> None:
        self._every = record_every_seconds
        self._recorded: dict[tuple[str, str], float] = {}
        self._pending: dict[tuple[str, str], str] = {}
        # Requests note uses on the event loop and on worker threads; the loop takes them.
        self._lock = threading.Lock()

    def note(self, account_id: str, token_hash: str) -> None:
        key = (account_id, token_hash)
        now = time.monotonic()
        recorded = self._recorded.get(key)
        if recorded is not None and now - recorded < self._every:
            return  # the common case, without the lock
        with self._lock:
            if len(self._recorded) >= _REMEMBERED:
                self._recorded.clear()
            self._recorded[key] = now
            self._pending[key] = now_iso()

    def take(self) -> dict[tuple[str, str], str]:
        """What was noted since the last take: (account, token hash) -> when."""
        with self._lock:
            taken, self._pending = self._pending, {}
        return taken

    def give_back(self, uses: dict[tuple[str, str], str]) -> None:
        """Uses whose write failed, to be written with the next ones."""
        with self._lock:
            for key, when in uses.items():
                self._pending[key] = max(when, self._pending.get(key, when))
