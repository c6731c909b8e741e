"""Splitting a source text into sentences, the unit that evidence coverage is measured in."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence ends at . ! or ? (and any closing quotes or brackets) followed by space,
# or at a line break: headlines and list items stand on lines of their own.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*[ \t]+(?=[\"“‘(\[]?[A-Z0-9])|\n+")


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of each sentence, without surrounding white space."""
    position = 0
    for boundary in _BOUNDARY.finditer(text):
        yield from _trimmed(text, position, boundary.start() + _closing_length(boundary.group()))
        position = boundary.end()
    yield from _trimmed(text, position, len(text))


def _closing_length(separator: str) -> int:
    return len(separator) - len(separator.lstrip("\"'”’)]"))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end
