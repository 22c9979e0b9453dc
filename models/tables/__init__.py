"""SQLModel tables, split by aggregate. Import from here."""

from models.tables.audit import AuditLog
from models.tables.auth import ApiToken, Batasan, HrSesi, HrUser, HrUserUnit
from models.tables.cycle import Cycle, CycleStage, StageReport
from models.tables.feedback import (
    Jawaban360,
    JawabanSurvei,
    Kompetensi,
    Pelatihan,
    Pengaturan360,
    Penilai360,
    PenilaianKompetensi,
    RekomendasiPelatihan,
    Survei,
)
from models.tables.monitoring import Bukti, Dialog, Realisasi, RencanaAksi, SkpPeriode, UmpanBalik
from models.tables.org import Pegawai, Unit
from models.tables.outbox import OutboxMessage
from models.tables.scoring import (
    AksiPembinaan,
    KandidatPenghargaan,
    Keberatan,
    NilaiUnit,
    PenilaianTahunan,
    PerubahanNilai,
    RencanaPembinaan,
    TunjanganKinerja,
)
from models.tables.skp import Iki, Perilaku, Rhk, Skp, SkpEvent, SkpVersi, Task

__all__ = ["AksiPembinaan", "KandidatPenghargaan", "Keberatan", "NilaiUnit", "PenilaianTahunan",
           "PerubahanNilai", "RencanaPembinaan", "TunjanganKinerja",
           "ApiToken", "AuditLog", "Batasan", "Bukti", "Jawaban360", "JawabanSurvei", "Kompetensi",
           "Pelatihan", "Penilai360", "PenilaianKompetensi", "Pengaturan360",
           "RekomendasiPelatihan", "Survei", "Cycle", "CycleStage", "Dialog", "HrSesi", "HrUser",
           "HrUserUnit", "Iki",
           "OutboxMessage", "Pegawai", "Perilaku", "Realisasi", "RencanaAksi", "Rhk", "Skp",
           "SkpEvent", "SkpPeriode", "SkpVersi", "StageReport", "Task", "UmpanBalik", "Unit"]
