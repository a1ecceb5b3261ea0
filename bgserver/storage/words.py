"""Store of the words contract search matches: the start of any word of a contract's number,
title or parameter values, in any case and any alphabet (``ivan`` finds "Petrov Ivan",
``ива`` finds "Петров Иван").

Words are folded in Python (``str.casefold``), so both databases hold and compare the same
text; a prefix becomes a range ``word >= prefix AND word < prefix + U+10FFFF`` served by
the index on (word, contract_id) on SQLite and MariaDB alike (a LIKE would not be on
SQLite, where LIKE ignores case and so skips a binary index).
"""

from __future__ import annotations

import re
from typing import Iterable

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.engine import Connection

from bgserver.storage.schema import contract_word

#: The longest word kept; a longer one (or a longer prefix asked for) is cut to this.
WORD_CHARS = 64
_PART = re.compile(r"\w+")
#: Beyond any character a word holds: ``prefix + _TOP`` bounds every word with that prefix.
_TOP = "\U0010ffff"
_PHONE_LIKE = re.compile(r"\+?[0-9 ().-]+")


def words_of(text: str | None) -> set[str]:
    """Each blank-separated token of ``text`` folded, and its runs of letters and digits:
    "A-26-0007" gives "a-26-0007", "a", "26" and "0007", so a number is found by its start
    and by any of its parts."""
    found: set[str] = set()
    for token in (text or "").casefold().split():
        found.add(token[:WORD_CHARS])
        found.update(part[:WORD_CHARS] for part in _PART.findall(token))
    return found


def source_of_param(param_id: int) -> str:
    return f"param:{param_id}"


def replace_words(conn: Connection, contract_id: int, source: str, text: str | None) -> None:
    """The words of one source of a contract become those of ``text`` (None: none), in the
    caller's unit of work, so that search sees a change exactly when it is committed."""
    conn.execute(delete(contract_word).where(contract_word.c.contract_id == contract_id,
                                             contract_word.c.source == source))
    rows = [{"contract_id": contract_id, "source": source, "word": w}
            for w in sorted(words_of(text))]
    if rows:
        conn.execute(insert(contract_word), rows)


def insert_words(conn: Connection, texts: Iterable[tuple[int, str, str | None]]) -> None:
    """Words of many (contract id, source, text) at once, for filling the table."""
    rows = [{"contract_id": contract_id, "source": source, "word": w}
            for contract_id, source, text in texts for w in sorted(words_of(text))]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(contract_word), rows[start:start + 5000])


def _starting_with(prefix: str):
    """Ids of contracts with a word starting with ``prefix`` (one index range)."""
    prefix = prefix[:WORD_CHARS]
    return select(contract_word.c.contract_id).where(
        and_(contract_word.c.word >= prefix, contract_word.c.word < prefix + _TOP))


def _alternatives(q: str) -> list[list[str]]:
    """The sets of terms any of which a contract may match: every
    blank-separated term of ``q`` starts a word of the contract (AND). A phone number typed
    with blanks or brackets, "+7 (495) 12", also matches the digits as one word."""
    terms = sorted(set(q.casefold().split()))
    if not terms:
        return []
    alternatives = [terms]
    digits = re.sub(r"[^0-9]", "", q)
    if digits and _PHONE_LIKE.fullmatch(q.strip()) and [digits] != terms:
        alternatives.append([digits])
    return alternatives


def condition(column, q: str):
    """``column`` (a contract id) is that of a contract matching ``q`` (see :func:`_alternatives`);
    None when ``q`` has no terms."""
    alternatives = _alternatives(q)
    if not alternatives:
        return None
    ands = [and_(*[column.in_(_starting_with(t)) for t in terms]) for terms in alternatives]
    return ands[0] if len(ands) == 1 else or_(*ands)
