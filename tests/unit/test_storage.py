"""Evidence storage: content-addressed files under a data folder, digests validated before any path."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from kinerja.storage import EvidenceSettings, EvidenceStore
from models.rules.evidence import DEFAULT_MAX_BYTES

DATA = b"%PDF-1.7\nbukti dukung\n%%EOF\n"
DIGEST = hashlib.sha256(DATA).hexdigest()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_then_read_round_trip(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    assert store.put(DATA) == DIGEST
    assert store.read(DIGEST) == DATA
    assert store.exists(DIGEST)


def test_path_layout(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    store.put(DATA)
    expected = tmp_path / DIGEST[:2] / DIGEST[2:4] / DIGEST
    assert store.path(DIGEST) == expected
    assert files_under(tmp_path) == [expected]


def test_same_content_twice_is_one_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    assert store.put(DATA) == store.put(DATA) == DIGEST
    assert store.put(b"lain") == hashlib.sha256(b"lain").hexdigest()
    assert len(files_under(tmp_path)) == 2
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_unknown_digest_does_not_exist(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(FileNotFoundError):
        store.read(missing)


@pytest.mark.parametrize("digest", [
    "../x", "../../etc/passwd", "/etc/passwd", "", DIGEST.upper(), DIGEST[:63], DIGEST + "0",
    DIGEST + "\n", "g" * 64, DIGEST[:62] + "/.", "..\\" + DIGEST[3:], " " + DIGEST[1:],
])
def test_bad_digests_are_refused(tmp_path: Path, digest: str) -> None:
    store = EvidenceStore(tmp_path)
    for call in (store.path, store.read, store.exists):
        with pytest.raises(ValueError, match="not a sha256 hex digest"):
            call(digest)


def test_files_are_not_world_writable(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "bukti")
    store.put(DATA)
    for path in [store.path(DIGEST), *store.path(DIGEST).parents][:3]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, f"{path} is world-writable ({oct(mode)})"
    assert stat.S_IMODE(store.path(DIGEST).stat().st_mode) == 0o640


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("kinerja.storage.os.replace", boom)
    store = EvidenceStore(tmp_path)
    with pytest.raises(OSError, match="disk full"):
        store.put(DATA)
    assert files_under(tmp_path) == []


def test_settings_default_under_kinerja_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINERJA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KINERJA_EVIDENCE_DIR", raising=False)
    monkeypatch.delenv("KINERJA_EVIDENCE_MAX_BYTES", raising=False)
    settings = EvidenceSettings()
    assert settings.max_bytes == DEFAULT_MAX_BYTES
    assert settings.root() == tmp_path / "home" / "bukti"


def test_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINERJA_EVIDENCE_DIR", str(tmp_path / "arsip"))
    monkeypatch.setenv("KINERJA_EVIDENCE_MAX_BYTES", "2048")
    settings = EvidenceSettings()
    assert settings.max_bytes == 2048
    assert settings.root() == tmp_path / "arsip"
