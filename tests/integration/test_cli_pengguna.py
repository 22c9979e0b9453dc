"""`kinerja pengguna`: add console users from the command line, with clear refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from kinerja.cli import main
from models.db import session_scope
from models.repo.hr import authenticate, unit_ids_of
from tests.factories import make_unit


def test_add_users_with_roles_and_units(db: Engine, db_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KINERJA_DATABASE_URL", db_url)
    monkeypatch.setenv("KINERJA_HOME", str(tmp_path))
    with session_scope(db) as s:
        unit_id = make_unit(s, "Dinas Kesehatan").id
    monkeypatch.setattr("sys.stdin", io.StringIO("rahasia-panjang-1\n"))
    assert main(["pengguna", "tambah", "op.dinkes", "--nama", "Operator Dinkes", "--email",
                 "op@dinkes.go.id", "--role", "operator", "--unit", "Dinas Kesehatan",
                 "--password-stdin"]) == 0
    with session_scope(db) as s:
        user = authenticate(session=s, username="op.dinkes", password="rahasia-panjang-1")
        assert user is not None and user.role == "operator"
        assert unit_ids_of(session=s, user_id=user.id) == frozenset({unit_id})

    monkeypatch.setattr("sys.stdin", io.StringIO("pendek\n"))
    assert main(["pengguna", "tambah", "op.dinkes", "--nama", "X", "--email", "x@y.id",
                 "--role", "operator", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "sudah dipakai" in err and "minimal 10" in err and "satu unit" in err
    assert main(["pengguna", "tambah", "baru", "--nama", "X", "--email", "x@y.id", "--role",
                 "operator", "--unit", "Dinas Fiktif", "--password-stdin"]) == 2
    assert "Dinas Fiktif" in capsys.readouterr().err
    assert main(["pengguna", "daftar"]) == 0
    listed = capsys.readouterr().out
    assert "op.dinkes\toperator\taktif" in listed and "Dinas Kesehatan" in listed
    with session_scope(db) as s:
        from models.tables import HrUser

        assert len(s.execute(select(HrUser.id)).all()) == 1
