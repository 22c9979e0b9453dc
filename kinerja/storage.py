"""Evidence storage: files kept by their SHA-256 under a data folder, never under a user's name."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kinerja.settings import HomeSettings
from models.rules.evidence import DEFAULT_MAX_BYTES

_DIGEST = re.compile(r"[0-9a-f]{64}")
FILE_MODE = 0o640
DIR_MODE = 0o750


class EvidenceSettings(BaseSettings):
    """Where evidence files live and how large one may be."""

    model_config = SettingsConfigDict(env_prefix="KINERJA_EVIDENCE_", extra="ignore")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0)
    #: empty means KINERJA_HOME/bukti
    dir: Path | None = None

    def root(self) -> Path:
        return self.dir if self.dir is not None else HomeSettings().home / "bukti"


class EvidenceStore:
    """Content-addressed files: `root/aa/bb/<sha256>`; writing the same content twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """The file's place; refuses anything but 64 lowercase hex chars, so no traversal is possible."""
        if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r:.80}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), FILE_MODE)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            # the rename is atomic: a reader sees no file or the whole file, never a partial one
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def _fsync_dir(folder: Path) -> None:
    # makes the rename itself durable across a power cut (POSIX); harmless where unsupported
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
