"""The start-up shortcut: "already at head" is decided without Alembic, and decided right."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from db.engine import create_engine
from db.migrate import alembic_config, current_revisions, expected_heads, script_heads, upgrade


def test_heads_from_the_files_match_alembic() -> None:
    expected = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert script_heads() == expected


def test_branches_and_unusual_files(tmp_path: Path) -> None:
    def write(name: str, revision: str, down: str) -> None:
        (tmp_path / name).write_text(f'revision = "{revision}"\ndown_revision = {down}\n')

    write("a.py", "0001", "None")
    write("b.py", "0002_x", '"0001"')
    write("c.py", "0002_y", "'0001'")
    assert script_heads(tmp_path) == {"0002_x", "0002_y"}
    write("d.py", "0003", '("0002_x", "0002_y")')  # a merge revision
    assert script_heads(tmp_path) == {"0003"}
    (tmp_path / "e.py").write_text("revision = make_id()\n")
    assert script_heads(tmp_path) is None  # Alembic decides


async def test_current_revisions_before_and_after_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revisions(engine) == frozenset()
        await upgrade(engine)
        assert await current_revisions(engine) == script_heads()
        await upgrade(engine)  # at head: nothing to do, and nothing breaks
        assert await current_revisions(engine) == script_heads()
    finally:
        await engine.dispose()


def test_expected_heads_fall_back_to_alembic(monkeypatch: pytest.MonkeyPatch) -> None:
    import db.migrate

    monkeypatch.setattr(db.migrate, "script_heads", lambda: None)
    assert expected_heads() == set(ScriptDirectory.from_config(alembic_config()).get_heads())
