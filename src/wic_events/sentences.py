"""Splitting a source text into sentences, the unit that evidence coverage is measured in."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence ends at . ! or ? (and any closing quotes or brackets) followed by space,
# or at a line break: headlines and list items stand on lines of their own.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*[ \t]+(?=[\"“‘(\[]?[A-Z0-9])|\n+")

# A period that closes one of these ends no sentence ("U.N. Secretary-General", "Dec. 16",
# "Mr. Xi"). A maintained splitter (pysbd) knows more of them, but adds 50 ms to each 8 KB text
# the build splits; on the first source both give the same 42 sentences.
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.)+"  # initials: U.N., U.S.A., G.
    r"|\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|Prof|St|No|Nos|Vol|pp|vs|etc|e\.g|i\.e"
    r"|Gen|Col|Lt|Sen|Rep|Gov|Pres|Amb|Jr|Sr|Inc|Ltd|Co|Corp|Dept|approx)\.)$"
)


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of each sentence, without surrounding white space.

    >>> text = "The U.N. Secretary-General spoke on Dec. 16. Mr. Xi replied!\\nHeadline"
    >>> [text[start:end] for start, end in sentence_spans(text)]
    ['The U.N. Secretary-General spoke on Dec. 16.', 'Mr. Xi replied!', 'Headline']
    """
    position = 0
    for boundary in _BOUNDARY.finditer(text):
        end = boundary.start() + _closing_length(boundary.group())
        if boundary.group()[0] != "\n" and _ABBREVIATION.search(text, max(position, end - 12), end):
            continue
        yield from _trimmed(text, position, end)
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
