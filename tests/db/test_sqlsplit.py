from db.sqlsplit import fingerprint, split_statements


def test_semicolons_inside_quotes_comments_and_dollar_bodies_do_not_split():
    sql = """
    -- a comment; with a semicolon
    create function f() returns int language plpgsql as $$ begin return 1; end; $$;
    insert into t values ('a;b', "we;ird");  /* block; comment */
    create function g() returns int as $body$ select 1; $body$ language sql
    """
    statements = split_statements(sql)
    assert len(statements) == 3
    assert statements[0].endswith("end; $$")
    assert "'a;b'" in statements[1]


def test_fingerprint_ignores_comments_and_whitespace_only():
    a = split_statements("create table x (id int);\n-- note\n")
    b = split_statements("-- other note\ncreate   table x\n(id int) ;")
    c = split_statements("create table x (id bigint);")
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
