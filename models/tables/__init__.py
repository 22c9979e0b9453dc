"""SQLModel tables, split by aggregate. Import from here."""

from models.tables.audit import AuditLog
from models.tables.auth import ApiToken, HrUser
from models.tables.cycle import Cycle, CycleStage, StageReport
from models.tables.org import Pegawai, Unit
from models.tables.outbox import OutboxMessage
from models.tables.skp import Iki, Perilaku, Rhk, Skp, SkpEvent, Task

__all__ = ["ApiToken", "AuditLog", "Cycle", "CycleStage", "HrUser", "Iki", "OutboxMessage",
           "Pegawai", "Perilaku", "Rhk", "Skp", "SkpEvent", "StageReport", "Task", "Unit"]
