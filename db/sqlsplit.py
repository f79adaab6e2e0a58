"""Split a SQL file into statements.

The runner executes one statement at a time so that a failure can name the statement
that failed, and it records the statements in the migration ledger the way the Supabase
CLI does. The splitter understands what can hide a semicolon: quotes, quoted
identifiers, dollar-quoted bodies and comments.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*\$|\$\$")


def split_statements(sql: str) -> list[str]:
    """Statements of ``sql`` without their terminating semicolons; comments are kept."""
    statements: list[str] = []
    start = 0
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch in ("'", '"'):
            i = _skip_quoted(sql, i, ch)
        elif ch == "$" and (m := _DOLLAR_TAG.match(sql, i)):
            tag = m.group(0)
            end = sql.find(tag, m.end())
            if end < 0:
                raise ValueError(f"unterminated dollar-quoted string starting with {tag}")
            i = end + len(tag)
        elif ch == ";":
            _append(statements, sql[start:i])
            i += 1
            start = i
        else:
            i += 1
    _append(statements, sql[start:])
    return statements


def _append(statements: list[str], text: str) -> None:
    if strip_comments(text).strip():
        statements.append(text.strip())


def _skip_block_comment(sql: str, i: int) -> int:
    depth = 0
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise ValueError("unterminated /* comment")


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    i += 1
    n = len(sql)
    while i < n:
        if sql[i] == quote:
            if i + 1 < n and sql[i + 1] == quote:  # doubled quote is an escaped quote
                i += 2
                continue
            return i + 1
        i += 1
    raise ValueError(f"unterminated {quote}-quoted text")


def strip_comments(sql: str) -> str:
    """``sql`` without -- and /* */ comments (outside quotes), for comparing contents."""
    out: list[str] = []
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif ch == "/" and sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch in ("'", '"'):
            j = _skip_quoted(sql, i, ch)
            out.append(sql[i:j])
            i = j
        elif ch == "$" and (m := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(m.group(0), m.end()) + len(m.group(0))
            out.append(sql[i:end])
            i = end
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def fingerprint(statements: list[str]) -> str:
    """Whitespace- and comment-insensitive form of a file's statements.

    Two ledgers written by different tools (ours, the Supabase CLI) split and space a file
    differently; what must match is the SQL itself.
    """
    return " ".join(" ".join(strip_comments(s).split()) for s in statements).replace(" ;", ";")
