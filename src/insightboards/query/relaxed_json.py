"""The relaxed JSON of the vendor's filter examples: `{name: {$in: ["sales", "marketing"]}}`.

Standard JSON, plus: unquoted keys (letters, digits, `_`, `$` and dots, as in
`{tags.name: "okr"}`), single-quoted strings, and trailing commas. Bounded in size and depth.
"""

import json
from typing import Any

from insightboards.errors import BadRequest

MAX_DEPTH = 32
_WHITESPACE = " \t\r\n"
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-")
_DECODER = json.JSONDecoder()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def fail(self, message: str) -> BadRequest:
        return BadRequest(f"filter: {message} at position {self.position}")

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position] in _WHITESPACE:
            self.position += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.position] if self.position < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected '{char}'")
        self.position += 1

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")
        char = self.peek()
        if char == "{":
            return self.object(depth)
        if char == "[":
            return self.array(depth)
        if char == "'":
            return self.single_quoted()
        if not char:
            raise self.fail("unexpected end")
        try:
            value, end = _DECODER.raw_decode(self.text, self.position)
        except json.JSONDecodeError:
            raise self.fail("expected a value") from None
        except ValueError:  # an integer of more digits than Python converts (4300)
            raise self.fail("number too long") from None
        self.position = end
        return value

    def object(self, depth: int) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        while self.peek() != "}":
            key = self.key()
            self.expect(":")
            result[key] = self.value(depth + 1)
            if self.peek() == ",":
                self.position += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}'")
        self.position += 1
        return result

    def array(self, depth: int) -> list[Any]:
        self.expect("[")
        result: list[Any] = []
        while self.peek() != "]":
            result.append(self.value(depth + 1))
            if self.peek() == ",":
                self.position += 1
            elif self.peek() != "]":
                raise self.fail("expected ',' or ']'")
        self.position += 1
        return result

    def key(self) -> str:
        char = self.peek()
        if char == '"':
            key = self.value(0)
            assert isinstance(key, str)
            return key
        if char == "'":
            return self.single_quoted()
        start = self.position
        while self.position < len(self.text) and self.text[self.position] in _KEY_CHARS:
            self.position += 1
        if start == self.position:
            raise self.fail("expected a key")
        return self.text[start : self.position]

    def single_quoted(self) -> str:
        self.position += 1
        chars: list[str] = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "\\" and self.position + 1 < len(self.text):
                chars.append(self.text[self.position + 1])
                self.position += 2
                continue
            if char == "'":
                self.position += 1
                return "".join(chars)
            chars.append(char)
            self.position += 1
        raise self.fail("unterminated string")


def parse(text: str) -> Any:
    """Parse relaxed JSON; BadRequest naming the position of the first problem."""
    parser = _Parser(text)
    value = parser.value(0)
    if parser.peek():
        raise parser.fail("unexpected text after the value")
    return value
