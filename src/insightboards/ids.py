"""Ids shaped like the vendor's: 24 lowercase hex characters, time-ordered (ObjectId layout)."""

import itertools
import os
import re
import threading
import time

_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
_PROCESS_BYTES = os.urandom(5)
_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_lock = threading.Lock()


def new_id() -> str:
    """A fresh id: 4 bytes of seconds, 5 random bytes per process, a 3-byte counter."""
    with _lock:
        count = next(_counter) & 0xFFFFFF
    return (int(time.time()).to_bytes(4, "big") + _PROCESS_BYTES + count.to_bytes(3, "big")).hex()


def is_valid_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))
