"""What flows and the API share, built once from settings at the edge: engine, clock, links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from kinerja.clock import Clock, SystemClock
from kinerja.settings import (
    ApiSettings,
    DatabaseSettings,
    OpsSettings,
    PrefectSettings,
    SmtpSettings,
)
from kinerja.storage import EvidenceSettings, EvidenceStore
from models.db import make_engine
from models.repo.skp import Mail
from models.rules.tokens import Links


def secret_key(api: ApiSettings) -> str:
    """KINERJA_SECRET_KEY, or a key generated once under KINERJA_HOME and kept there."""
    if api.secret_key:
        return api.secret_key
    path = Path(api.home) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Runtime:
    api: ApiSettings
    db: DatabaseSettings
    smtp: SmtpSettings
    prefect: PrefectSettings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)

    @classmethod
    def from_env(cls, clock: Clock | None = None, engine: Engine | None = None) -> Runtime:
        db = DatabaseSettings()
        return cls(api=ApiSettings(), db=db, smtp=SmtpSettings(), prefect=PrefectSettings(),
                   engine=engine or make_engine(db.url), clock=clock or SystemClock())

    @property
    def links(self) -> Links:
        return Links(self.api.public_url, secret_key(self.api), self.api.link_ttl_hours)

    @property
    def store(self) -> EvidenceStore:
        """Bukti dukung files, by content hash, under the data folder."""
        return EvidenceStore(self.evidence.root())

    @property
    def mail(self) -> Mail:
        return Mail(self.links, self.api.agency_name, self.api.language)
