"""The sentence rule that evidence coverage counts in, proved on the cases a splitter gets wrong."""

import doctest

import pytest

from conftest import DATA_DIR
from wic_events import sentences
from wic_events.sentences import sentence_spans


def split(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wu Hongbo, U.N. Under-Secretary-General, read it. Then Xi spoke.", ["Wu Hongbo, U.N. Under-Secretary-General, read it.", "Then Xi spoke."]),
        ("It opened on Dec. 16 in Wuzhen. It closed on Dec. 18.", ["It opened on Dec. 16 in Wuzhen.", "It closed on Dec. 18."]),
        ("Mr. Xi and Dr. Ban met. They spoke.", ["Mr. Xi and Dr. Ban met.", "They spoke."]),
        ("The U.S.A. Delegation came.", ["The U.S.A. Delegation came."]),
        ("See Vol. 2, pp. 10 and No. 3. Done.", ["See Vol. 2, pp. 10 and No. 3.", "Done."]),
        # a sentence that ends a quote or a bracket ends there
        ('He said "Go." Then he left (at once.) Next!', ['He said "Go."', "Then he left (at once.)", "Next!"]),
        # a word ending in the letters of an abbreviation is no abbreviation
        ("He chose the disco. Another day.", ["He chose the disco.", "Another day."]),
        ("They met in Wuhan. Dec 16 came.", ["They met in Wuhan.", "Dec 16 came."]),
        # a line break always ends one, after an abbreviation too: headlines stand alone
        ("Talks with the U.N.\nNext headline", ["Talks with the U.N.", "Next headline"]),
        ("  Leading space. trailing lower case stays.  ", ["Leading space. trailing lower case stays."]),
        ("", []),
    ],
)
def test_sentence_rule(text, expected):
    assert split(text) == expected


def test_the_first_source_keeps_its_42_sentences():
    text = (DATA_DIR / "sources" / "wic-2015-opening-news-release.txt").read_text(encoding="utf-8")
    found = split(text)
    assert len(found) == 42 and found[-1] == "Suggest to a Friend:"


def test_the_docstring_example_runs():
    result = doctest.testmod(sentences)
    assert result.attempted >= 1 and result.failed == 0
