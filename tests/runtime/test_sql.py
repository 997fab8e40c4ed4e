"""SQL normalization: one text per query shape, whatever the values, driver or layout."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, bindparam, column, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import asyncpg, psycopg

from fastapi_architect.runtime.sql import is_select, normalize

EXPECTED = "SELECT * FROM books WHERE author_id = ? AND title = ?"


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM books WHERE author_id = ? AND title = ?",  # qmark (sqlite3)
        "SELECT * FROM books WHERE author_id = %s AND title = %s",  # format (psycopg)
        "SELECT * FROM books WHERE author_id = %(author_id_1)s AND title = %(title_1)s",
        "SELECT * FROM books WHERE author_id = :author_id_1 AND title = :title_1",  # named
        "SELECT * FROM books WHERE author_id = :1 AND title = :2",  # numeric (oracle)
        "SELECT * FROM books WHERE author_id = $1 AND title = $2",  # asyncpg
        "SELECT * FROM books WHERE author_id = ?1 AND title = ?2",  # sqlite numbered
        "SELECT * FROM books WHERE author_id = 7 AND title = 'Dune'",  # literals
        "SELECT * FROM books WHERE author_id = %(a)s::INTEGER AND title = %(t)s::VARCHAR",
    ],
    ids=["qmark", "format", "pyformat", "named", "numeric", "dollar", "qmark-n", "literal", "cast"],
)
def test_every_paramstyle_becomes_a_question_mark(statement: str) -> None:
    assert normalize(statement) == EXPECTED


@pytest.mark.parametrize(
    ("literal", "why"),
    [
        ("'O''Brien'", "doubled quote inside a string"),
        ("E'it\\'s'", "backslash-escaped quote in an E'' string"),
        ("'-- not a comment'", "comment marker inside a string"),
        ("'a :name, $1, ? and %s'", "placeholders inside a string"),
        ("''", "empty string"),
        ("N'unicode'", "national string"),
        ("X'DEADBEEF'", "hex string"),
        ("$$dollar 'quoted'$$", "dollar-quoted string"),
        ("$fn$ body $$ inside $fn$", "tagged dollar-quoted string"),
        ("42", "integer"),
        ("-42", "negative integer"),
        ("3.14", "decimal"),
        ("-0.5", "negative decimal"),
        (".5", "leading dot"),
        ("6.02e23", "exponent"),
        ("1E-9", "negative exponent"),
        ("0x1F", "hex number"),
        ("+7", "explicit plus"),
    ],
)
def test_literals_become_a_question_mark(literal: str, why: str) -> None:
    assert normalize(f"SELECT id FROM t WHERE v = {literal} AND w = 1") == (
        "SELECT id FROM t WHERE v = ? AND w = ?"
    ), why


def test_a_minus_between_operands_stays_an_operator() -> None:
    assert normalize("SELECT a - 5, a-5, (a) - 1, a * -5, f(-1) FROM t") == (
        "SELECT a - ?, a - ?, (a) - ?, a * ?, f(?) FROM t"
    )
    assert normalize("SELECT * FROM t WHERE x BETWEEN -1 AND -2") == (
        "SELECT * FROM t WHERE x BETWEEN ? AND ?"
    )


def test_numbers_inside_names_are_kept() -> None:
    assert normalize("SELECT books_1.id, t2.col3 FROM books AS books_1, t2") == (
        "SELECT books_1.id, t2.col3 FROM books AS books_1, t2"
    )


@pytest.mark.parametrize(
    "values",
    [
        "1",
        "1, 2",
        "1,2,3,4,5,6,7,8,9,10",
        "?, ?, ?",
        "$1, $2",
        "$3, $4, $5, $6",
        "%(id_1_1)s, %(id_1_2)s",
        "%s, %s, %s",
        ":id_1_1, :id_1_2",
        "'a', 'b'",
    ],
)
def test_in_lists_of_any_length_are_one(values: str) -> None:
    assert normalize(f"SELECT * FROM books WHERE author_id IN ({values}) ORDER BY id") == (
        "SELECT * FROM books WHERE author_id IN (?) ORDER BY id"
    )


def test_not_in_tuple_in_and_row_groups_collapse() -> None:
    assert (
        normalize("DELETE FROM t WHERE id NOT IN (1, 2, 3)") == "DELETE FROM t WHERE id NOT IN (?)"
    )
    assert normalize("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4), (5, 6))") == (
        "SELECT * FROM t WHERE (a, b) IN ((?, ?))"
    )
    assert normalize("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')") == (
        "INSERT INTO t (a, b) VALUES (?, ?)"
    )
    # a subquery is not a list
    assert normalize("SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = 1)") == (
        "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = ?)"
    )


def test_whitespace_and_case_are_folded() -> None:
    layouts = [
        "SELECT books.id, books.title FROM books WHERE books.author_id = ?",
        "select books.id, books.title from books where books.author_id = ?",
        "  SELECT\n\tbooks.id ,books.title\n  FROM   Books\n WHERE BOOKS.AUTHOR_ID=?  ;",
        "Select Books . Id,Books.Title From BOOKS Where books.author_id =\r\n ?",
    ]
    assert {normalize(s) for s in layouts} == {
        "SELECT books.id, books.title FROM books WHERE books.author_id = ?"
    }


def test_quoted_names_keep_their_case_and_content() -> None:
    assert normalize('select "Author"."Name" from "Author" where "Author"."x y" = 1') == (
        'SELECT "Author"."Name" FROM "Author" WHERE "Author"."x y" = ?'
    )
    assert normalize("select `Order`.id from `Order`") == "SELECT `Order`.id FROM `Order`"


def test_comments_are_stripped() -> None:
    assert normalize(
        "/* request 12 */ SELECT id -- the key\nFROM t /* multi\nline */ WHERE a = 1 -- end"
    ) == ("SELECT id FROM t WHERE a = ?")
    assert normalize("SELECT 1 /* never closed") == "SELECT ?"


def test_function_calls_casts_and_operators() -> None:
    assert normalize(
        "SELECT count(*), COALESCE(a, 0) FROM t WHERE x::int > 3 AND j->>'k' = 'v'"
    ) == ("SELECT count(*), coalesce(a, ?) FROM t WHERE x::int > ? AND j ->> ? = ?")
    assert normalize("INSERT INTO public.books (title) VALUES ('a') RETURNING books.id") == (
        "INSERT INTO public.books (title) VALUES (?) RETURNING books.id"
    )
    assert normalize("SELECT a %% 2 FROM t") == "SELECT a % ? FROM t"


def test_unterminated_input_does_not_fail() -> None:
    assert normalize("SELECT 'abc") == "SELECT ?"
    assert normalize("") == ""
    assert normalize("   ") == ""


def test_the_same_query_compiled_for_each_driver_normalizes_alike() -> None:
    books = table(
        "books", column("id", Integer), column("title", String), column("author_id", Integer)
    )
    query = (
        select(books.c.id, books.c.title)
        .where(books.c.author_id.in_(bindparam("ids", expanding=True)))
        .where(books.c.title != "x")
        .order_by(books.c.id)
    )
    raws, texts = set(), set()
    for dialect, ids in [
        (sqlite.dialect(), [1]),
        (postgresql.dialect(), [1, 2]),
        (psycopg.dialect(), [1, 2, 3]),
        (asyncpg.dialect(), [1, 2, 3, 4, 5]),
    ]:
        # the expanded IN list the driver receives: one placeholder per value
        compiled = query.params(ids=ids).compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
        raws.add(str(compiled))
        texts.add(normalize(str(compiled)))
    assert len(raws) == 4  # each driver receives another text
    assert texts == {
        "SELECT books.id, books.title FROM books "
        "WHERE books.author_id IN (?) AND books.title != ? ORDER BY books.id"
    }


def test_normalize_is_cached() -> None:
    statement = "SELECT cached FROM t WHERE id = 12345"
    normalize.cache_clear()
    first = normalize(statement)
    before = normalize.cache_info()
    assert normalize(statement) is first
    after = normalize.cache_info()
    assert after.hits == before.hits + 1
    assert after.misses == before.misses


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT 1", True),
        ("select * from t for update", True),
        ("(SELECT a FROM t) UNION (SELECT a FROM u)", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", False),
        ("WITH x AS (SELECT 1) UPDATE t SET a = 1", False),
        ("INSERT INTO t (a) SELECT a FROM u", False),
        ("UPDATE t SET a = 1", False),
        ("DELETE FROM t", False),
        ("SELECTED", False),
        ('"select"', False),
        ("PRAGMA table_info(t)", False),
    ],
)
def test_is_select(statement: str, expected: bool) -> None:
    assert is_select(normalize(statement)) is expected
