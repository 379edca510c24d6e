import time

from insightboards.api.deps import get_if_match
from insightboards.ids import is_valid_id, new_id


def test_ids_are_24_hex_unique_and_time_ordered() -> None:
    ids = [new_id() for _ in range(1000)]
    assert all(is_valid_id(i) for i in ids)
    assert len(set(ids)) == 1000
    assert abs(int(ids[0][:8], 16) - time.time()) < 5
    assert not is_valid_id("5BE26318E5274A0007F17F61") and not is_valid_id("abc")


def test_if_match_parsing() -> None:
    assert get_if_match(None) is None and get_if_match("*") is None
    assert get_if_match('"3"') == 3 and get_if_match('W/"3"') == 3 and get_if_match("3") == 3
    assert get_if_match('"abc"') == -1
