"""The ORM models and the migrated schema cannot drift apart unnoticed."""

from __future__ import annotations

from sqlalchemy import inspect, text

from db.models import ALL_MODELS


def _db_types(conn, table: str) -> dict[str, str]:
    rows = conn.execute(
        text(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = cast(:t as regclass) and attnum > 0 and not attisdropped"
        ),
        {"t": f"public.{table}"},
    )
    return {name: typ for name, typ in rows}


def _norm_default(d) -> str | None:
    if d is None:
        return None
    s = str(getattr(d, "arg", d)).lower().replace("::text[]", "").replace("::text", "")
    return s.replace(" ", "")


def test_models_match_migrated_schema(database):
    inspector = inspect(database.engine)
    problems = []
    assert {m.__tablename__ for m in ALL_MODELS} <= set(inspector.get_table_names())
    for model in ALL_MODELS:
        table = model.__table__
        db_cols = {c["name"]: c for c in inspector.get_columns(table.name)}
        model_cols = {c.name: c for c in table.columns}
        with database.engine.connect() as conn:
            db_types = _db_types(conn, table.name)
        if set(db_cols) != set(model_cols):
            problems.append(
                f"{table.name}: columns differ: db-only {set(db_cols) - set(model_cols)}, "
                f"model-only {set(model_cols) - set(db_cols)}"
            )
            continue
        for name, col in model_cols.items():
            dbc = db_cols[name]
            model_type = col.type.compile(database.engine.dialect).lower()
            if model_type != db_types[name]:
                problems.append(f"{table.name}.{name}: type model {model_type} db {db_types[name]}")
            if bool(col.nullable) != bool(dbc["nullable"]):
                problems.append(
                    f"{table.name}.{name}: nullable model {col.nullable} db {dbc['nullable']}"
                )
            if _norm_default(col.server_default) != _norm_default(dbc["default"]):
                problems.append(
                    f"{table.name}.{name}: default model "
                    f"{col.server_default and col.server_default.arg} "
                    f"db {dbc['default']}"
                )
    assert not problems, "\n".join(problems)
