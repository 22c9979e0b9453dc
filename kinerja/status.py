"""`kinerja status`: the cycle's stages, the last run of each flow and the recent failures.

Gathering (database and Prefect) is kept apart from formatting, which is a plain function of
the report so that it is tested without either."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from kinerja import operations as ops
from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo.cycles import get_cycle, list_cycles, list_stages
from models.rules import operasi as rules
from models.rules import periods
from models.rules.enums import StageCode
from models.rules.texts import ZONE_ABBR

#: exit codes: 1 a Kinerja flow run failed or crashed in the window, 3 Prefect unreachable
EXIT_OK, EXIT_FAILURES, EXIT_NO_CYCLE, EXIT_NO_PREFECT = 0, 1, 2, 3

STAGE_NAMES = {StageCode.PERENCANAAN: ("Perencanaan", "Planning"),
               StageCode.UMPAN_BALIK: ("Umpan balik 360", "360 feedback"),
               StageCode.PENILAIAN: ("Penilaian tahunan", "Annual rating"),
               StageCode.KEBERATAN: ("Keberatan", "Appeals")}
STATES = {"planned": ("terjadwal", "planned"), "open": ("dibuka", "open"),
          "closed": ("ditutup", "closed")}


@dataclass
class StageLine:
    code: str
    periode: int
    label: tuple[str, str]
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    state: str
    run_names: list[str]
    runs: dict[str, ops.RunInfo] = field(default_factory=dict)


@dataclass
class CycleLine:
    id: int
    tahun: int
    nama: str
    status: str
    timezone: str
    stages: list[StageLine]


@dataclass
class StatusReport:
    now: datetime
    days: float
    api_url: str
    ui: str
    cycles: list[CycleLine]
    prefect_error: str | None = None
    automation: ops.AutomationInfo | None = None
    last_runs: dict[str, ops.RunInfo | None] = field(default_factory=dict)
    failures: list[ops.RunInfo] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.prefect_error is not None:
            return EXIT_NO_PREFECT
        return EXIT_FAILURES if self.failures else EXIT_OK


def load_cycles(*, session: Session, cycle_id: int | None) -> list[CycleLine]:
    """The chosen cycle, or the latest one (none: an empty list); NotFound for a wrong id."""
    if cycle_id is not None:
        cycles = [get_cycle(session=session, cycle_id=cycle_id)]
    else:
        cycles = list_cycles(session=session)[:1]
    out = []
    for c in cycles:
        assert c.id is not None
        stages = [StageLine(
            code=st.code, periode=st.periode, label=_stage_label(st.code, st.periode, c.periodisasi),
            opens_at=st.opens_at, due_at=st.due_at, closes_at=st.closes_at,
            state=rules.stage_state(st.opened_at, st.closed_at),
            run_names=ops.stage_run_names(StageCode(st.code), st.periode, c.id))
            for st in list_stages(session=session, cycle_id=c.id)]
        out.append(CycleLine(c.id, c.tahun, c.nama, str(c.status), c.timezone, stages))
    return out


def _stage_label(code: str, periode: int, periodisasi: str) -> tuple[str, str]:
    if code == StageCode.PEMANTAUAN:
        return (f"Pemantauan {periods.label(periode, periodisasi, 'id')}",
                f"Monitoring, {periods.label(periode, periodisasi, 'en')}")
    return STAGE_NAMES.get(StageCode(code), (code, code))


async def _gather_prefect(report: StatusReport) -> None:
    since = report.now - timedelta(days=report.days)
    try:
        async with ops.prefect_client(report.api_url) as client:
            report.automation = await ops.read_automation(client)
            report.last_runs = await ops.read_last_runs(client)
            report.failures = await ops.read_runs(client, failed_since=since, limit=200)
            for cycle in report.cycles:
                runs = await ops.read_runs(client, cycle_id=cycle.id, limit=400)
                newest: dict[str, ops.RunInfo] = {}
                for run in runs:  # newest first: keep the first of each name
                    newest.setdefault(run.name, run)
                for stage in cycle.stages:
                    stage.runs = {n: newest[n] for n in stage.run_names if n in newest}
    except ops.PrefectUnavailable as exc:
        report.prefect_error = str(exc)


def gather(rt: Runtime, *, cycle_id: int | None, days: float) -> StatusReport:
    """Everything `kinerja status` shows; Prefect being down is part of the report."""
    with session_scope(rt.engine) as s:
        cycles = load_cycles(session=s, cycle_id=cycle_id)
    report = StatusReport(now=rt.clock.now(), days=days, api_url=rt.prefect.api,
                          ui=rt.prefect.ui, cycles=cycles)
    asyncio.run(_gather_prefect(report))
    return report


# -- formatting -----------------------------------------------------------------------------


def _at(value: datetime | None, tz: str) -> str:
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M} {ZONE_ABBR.get(tz, local.tzname() or tz)}"


def _run_line(run: ops.RunInfo, now: datetime, tz: str, t: Any) -> str:
    mark = "✗" if run.failed else " "
    return (f"{mark} {run.name:<32} {run.state_name:<13} {t('mulai', 'start')} "
            f"{_at(run.start, tz)}  {rules.format_duration(run.duration(now))}")


def format_text(report: StatusReport, tz: str, lang: str = "id") -> str:
    """The report as the terminal shows it, in the agency's time zone."""
    def t(id_text: str, en_text: str) -> str:
        return en_text if lang == "en" else id_text

    out = [f"Kinerja: status {_at(report.now, tz)}"]
    out += _cycles_text(report, t, lang)
    out.append("")
    if report.prefect_error is not None:
        out += [t(f"PREFECT TIDAK DAPAT DIHUBUNGI di {report.api_url}: {report.prefect_error}",
                  f"PREFECT CANNOT BE REACHED at {report.api_url}: {report.prefect_error}"),
                t("Flow run dan kegagalan tidak dapat diperiksa.",
                  "Flow runs and failures could not be checked.")]
        return "\n".join(out)
    out.append(f"Prefect: {report.api_url} ({t('terhubung', 'reachable')})")
    out.append(_automation_text(report, t))
    out += ["", t("Flow run terakhir per flow:", "Last run of each flow:")]
    for flow, run in report.last_runs.items():
        out.append(f"  {flow:<20} " + (_run_line(run, report.now, tz, t) if run is not None
                                       else t("(belum pernah berjalan)", "(never ran)")))
    days = f"{report.days:g}"
    out += ["", t(f"Gagal atau terhenti dalam {days} hari terakhir: {len(report.failures)}",
                  f"Failed or crashed in the last {days} day(s): {len(report.failures)}")]
    for run in report.failures:
        out.append(f"  {run.flow:<20} " + _run_line(run, report.now, tz, t))
        if run.message:
            out.append(f"      {rules.redact(run.message, 300)}".replace("\n", "\n      "))
        out.append(f"      {ops.run_link(report.ui, run.id)}")
    return "\n".join(out)


def _cycles_text(report: StatusReport, t: Any, lang: str) -> list[str]:
    if not report.cycles:
        return ["", t("Belum ada siklus.", "No cycle yet.")]
    out: list[str] = []
    for c in report.cycles:
        out += ["", f"{t('Siklus', 'Cycle')} {c.id}: {c.nama} ({c.tahun}, {c.status}; "
                    f"{t('zona waktu', 'time zone')} {c.timezone})"]
        for st in c.stages:
            state = STATES[st.state][lang == "en"]
            out.append(f"  {st.label[lang == 'en']:<30} {state:<10} "
                       f"{_at(st.opens_at, c.timezone)} → {_at(st.closes_at, c.timezone)}"
                       f"  ({t('batas', 'due')} {_at(st.due_at, c.timezone)})")
            out += [f"      {_run_line(run, report.now, c.timezone, t)}"
                    for run in st.runs.values()]
    return out


def _automation_text(report: StatusReport, t: Any) -> str:
    a = report.automation
    if a is None:
        return t(f"Otomasi email kegagalan '{ops.AUTOMATION_NAME}': TIDAK ADA; jalankan "
                 "`kinerja ensure-automation`",
                 f"Failure email automation '{ops.AUTOMATION_NAME}': MISSING; run "
                 "`kinerja ensure-automation`")
    state = t("aktif", "enabled") if a.enabled else t("NONAKTIF", "DISABLED")
    return t(f"Otomasi email kegagalan '{ops.AUTOMATION_NAME}': {state}",
             f"Failure email automation '{ops.AUTOMATION_NAME}': {state}")


def as_json(report: StatusReport) -> dict[str, Any]:
    now, ui = report.now, report.ui
    return {
        "now": now.isoformat(), "days": report.days, "exit_code": report.exit_code,
        "prefect": {"api": report.api_url, "reachable": report.prefect_error is None,
                    "error": report.prefect_error},
        "automation": ({"name": ops.AUTOMATION_NAME, "id": report.automation.id,
                        "enabled": report.automation.enabled} if report.automation else None),
        "cycles": [{"id": c.id, "tahun": c.tahun, "nama": c.nama, "status": c.status,
                    "timezone": c.timezone, "stages": [{
                        "code": st.code, "periode": st.periode, "label": st.label[0],
                        "state": st.state, "opens_at": st.opens_at.isoformat(),
                        "due_at": st.due_at.isoformat(), "closes_at": st.closes_at.isoformat(),
                        "runs": [run.as_json(now, ui) for run in st.runs.values()]}
                        for st in c.stages]} for c in report.cycles],
        "last_runs": {f: (r.as_json(now, ui) if r else None) for f, r in report.last_runs.items()},
        "failures": [r.as_json(now, ui) for r in report.failures],
    }
