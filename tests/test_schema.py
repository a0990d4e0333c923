"""The committed SDL and the migrations both match the code."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from graphql import build_schema as parse_sdl
from graphql import find_breaking_changes
from typer.testing import CliRunner

import models
from app.cli import cli
from app.schema import export_sdl

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_is_up_to_date():
    committed = (ROOT / "schema.graphql").read_text()

    assert committed == export_sdl(), (
        "schema.graphql is stale: run `commerce export-schema > schema.graphql`"
    )


def test_export_schema_command_prints_the_sdl():
    result = CliRunner().invoke(cli, ["export-schema"])

    assert result.exit_code == 0
    assert result.output == export_sdl()


def test_committed_schema_has_no_breaking_change_against_the_code():
    old = parse_sdl((ROOT / "schema.graphql").read_text())
    new = parse_sdl(export_sdl())

    assert find_breaking_changes(old, new) == []


async def test_models_and_migrations_agree(engine):
    def diff(sync_connection):
        context = MigrationContext.configure(
            sync_connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, models.Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_migrations_are_at_head(engine):
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config, current_revision

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await current_revision(engine) == head
