"""The migrations, applied to an empty database, produce exactly the models' schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Base

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(connection: Connection) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["connection"] = connection
    return config


def upgrade_and_compare(connection: Connection) -> list[Any]:
    command.upgrade(alembic_config(connection), "head")
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def downgrade_and_list_tables(connection: Connection) -> list[str]:
    command.downgrade(alembic_config(connection), "base")
    return sorted(inspect(connection).get_table_names())


async def test_migrations_match_the_models(empty_engine: AsyncEngine) -> None:
    async with empty_engine.begin() as connection:
        differences = await connection.run_sync(upgrade_and_compare)
    assert differences == []

    async with empty_engine.begin() as connection:
        tables = await connection.run_sync(downgrade_and_list_tables)
    assert tables == ["alembic_version"]


def test_revisions_form_a_single_line() -> None:
    scripts = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    assert len(scripts.get_heads()) == 1
    assert scripts.get_base() == "0001_initial"
