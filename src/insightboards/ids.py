"""Ids shaped like the vendor's: 24 lowercase hex characters, time-ordered (ObjectId layout)."""

import itertools
import os
import re
import time

_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
_PROCESS_HEX = os.urandom(5).hex()
# A counter's next value is one C call, which the GIL makes atomic between threads.
_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))


# The id's first 18 characters change once a second: (that second, its prefix).
_prefix: tuple[int, str] = (-1, "")


def new_id() -> str:
    """A fresh id: 4 bytes of seconds, 5 random bytes per process, a 3-byte counter."""
    global _prefix
    second = int(time.time())
    if second != _prefix[0]:  # a create makes 20 ids: the prefix is formatted once for them
        _prefix = (second, f"{second & 0xFFFFFFFF:08x}{_PROCESS_HEX}")
    return f"{_prefix[1]}{next(_counter) & 0xFFFFFF:06x}"


def is_valid_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))
