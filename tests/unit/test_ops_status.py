"""`kinerja status` formatting, exit codes and JSON; the operations rules; the flow list."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime, timedelta

import pytest

from kinerja import operations as ops
from kinerja import status
from models.rules import operasi as rules

NOW = datetime(2027, 4, 1, 3, 0, tzinfo=UTC)  # 10.00 WIB
UI = "http://prefect.local:4200"
TZ = "Asia/Jakarta"


def run(name: str, flow: str, state: str = "Completed", minutes_ago: float = 30,
        took: float | None = 2.5, message: str = "") -> ops.RunInfo:
    start = NOW - timedelta(minutes=minutes_ago)
    state_type = {"Failed": "FAILED", "TimedOut": "FAILED", "Crashed": "CRASHED",
                  "Running": "RUNNING"}.get(state, "COMPLETED")
    return ops.RunInfo(id=f"00000000-0000-0000-0000-{abs(hash(name)) % 10**12:012d}", flow=flow,
                       name=name, state_type=state_type, state_name=state, message=message,
                       start=start, end=None if took is None else start + timedelta(minutes=took))


def stage(code: str, periode: int, label: tuple[str, str], state: str,
          runs: list[ops.RunInfo]) -> status.StageLine:
    opens = datetime(2027, 1, 2, 1, 0, tzinfo=UTC) + timedelta(days=90 * periode)
    return status.StageLine(code=code, periode=periode, label=label, opens_at=opens,
                            due_at=opens + timedelta(days=18), closes_at=opens + timedelta(days=36),
                            state=state, run_names=[r.name for r in runs],
                            runs={r.name: r for r in runs})


def report(**overrides: object) -> status.StatusReport:
    failed = run("buka-periode-2-siklus-7", "buka-periode", "Failed", minutes_ago=90, took=0.1,
                 message="NotFound: budi@contoh.go.id NIP 198001012005011001 tidak ada")
    cycle = status.CycleLine(7, 2027, "Siklus Kinerja 2027", "launched", TZ, [
        stage("perencanaan", 0, ("Perencanaan", "Planning"), "closed", [
            run("buka-perencanaan-siklus-7", "buka-perencanaan", minutes_ago=60 * 24 * 80),
            run("tutup-perencanaan-siklus-7", "tutup-perencanaan", minutes_ago=60 * 24 * 50)]),
        stage("pemantauan", 2, ("Pemantauan Triwulan II", "Monitoring, Quarter 2"), "open",
              [failed]),
        stage("penilaian", 0, ("Penilaian tahunan", "Annual rating"), "planned", [])])
    last = {name: None for name in ops.FLOWS} | {
        "orkestrator-siklus": run("orkestrator-siklus-7", "orkestrator-siklus", "Running",
                                  minutes_ago=65, took=None),
        "buka-periode": failed, "kirim-email": run("kirim-email", "kirim-email", minutes_ago=1)}
    values = {"now": NOW, "days": 1.0, "api_url": f"{UI}/api", "ui": UI, "cycles": [cycle],
              "automation": ops.AutomationInfo("a1", True), "last_runs": last,
              "failures": [failed]} | overrides
    return status.StatusReport(**values)  # type: ignore[arg-type]


def test_text_lists_stages_last_runs_and_failures() -> None:
    text = status.format_text(report(), TZ)
    lines = text.splitlines()
    assert lines[0] == "Kinerja: status 2027-04-01 10:00 WIB"
    assert "Siklus 7: Siklus Kinerja 2027 (2027, launched; zona waktu Asia/Jakarta)" in lines
    planning = next(ln for ln in lines if ln.lstrip().startswith("Perencanaan"))
    assert "ditutup" in planning and "2027-01-02 08:00 WIB → 2027-02-07 08:00 WIB" in planning
    assert "(batas 2027-01-20 08:00 WIB)" in planning
    assert any("Pemantauan Triwulan II" in ln and "dibuka" in ln for ln in lines)
    assert any("Penilaian tahunan" in ln and "terjadwal" in ln for ln in lines)
    # each flow once, with its last run, never-ran flows said so
    orchestrator = next(ln for ln in lines if ln.startswith("  orkestrator-siklus"))
    assert "Running" in orchestrator and "mulai 2027-04-01 08:55 WIB" in orchestrator
    assert "1:05:00" in orchestrator  # still running: measured up to now
    assert next(ln for ln in lines if ln.startswith("  tutup-keberatan")).endswith(
        "(belum pernah berjalan)")
    assert "Gagal atau terhenti dalam 1 hari terakhir: 1" in lines
    at = lines.index("Gagal atau terhenti dalam 1 hari terakhir: 1")
    assert lines[at + 1].lstrip().startswith("buka-periode") and "✗" in lines[at + 1]
    assert lines[at + 2].strip() == "NotFound: [email] NIP [nomor] tidak ada"
    assert lines[at + 3].strip() == f"{UI}/runs/flow-run/{report().failures[0].id}"
    assert "Otomasi email kegagalan 'kinerja-kegagalan-flow': aktif" in lines


def test_english_and_a_missing_automation() -> None:
    text = status.format_text(report(automation=None, failures=[]), TZ, "en")
    assert "Failure email automation 'kinerja-kegagalan-flow': MISSING; run " \
           "`kinerja ensure-automation`" in text
    assert "Failed or crashed in the last 1 day(s): 0" in text
    assert "Cycle 7: Siklus Kinerja 2027" in text and "Monitoring, Quarter 2" in text


@pytest.mark.parametrize(("overrides", "code"), [
    ({}, status.EXIT_FAILURES),
    ({"failures": []}, status.EXIT_OK),
    ({"prefect_error": "ConnectError: refused"}, status.EXIT_NO_PREFECT),
])
def test_exit_code(overrides: dict[str, object], code: int) -> None:
    assert report(**overrides).exit_code == code


def test_prefect_unreachable_is_said_plainly() -> None:
    down = report(prefect_error="ConnectError: All connection attempts failed", last_runs={},
                  failures=[], automation=None)
    text = status.format_text(down, TZ)
    assert (f"PREFECT TIDAK DAPAT DIHUBUNGI di {UI}/api: ConnectError: All connection attempts "
            "failed") in text
    assert "Flow run dan kegagalan tidak dapat diperiksa." in text
    assert "Siklus 7" in text  # the stages come from the app's database, still shown
    assert status.as_json(down)["prefect"] == {"api": f"{UI}/api", "reachable": False,
                                               "error": "ConnectError: All connection attempts "
                                                        "failed"}


def test_no_cycle_yet() -> None:
    assert "Belum ada siklus." in status.format_text(report(cycles=[]), TZ)


def test_json() -> None:
    data = status.as_json(report())
    assert data["exit_code"] == 1 and data["automation"] == {
        "name": "kinerja-kegagalan-flow", "id": "a1", "enabled": True}
    [cycle] = data["cycles"]
    assert [(s["code"], s["periode"], s["state"]) for s in cycle["stages"]] == [
        ("perencanaan", 0, "closed"), ("pemantauan", 2, "open"), ("penilaian", 0, "planned")]
    failure = data["failures"][0]
    assert failure["state"] == "Failed" and failure["duration_seconds"] == 6.0
    assert failure["link"] == f"{UI}/runs/flow-run/{failure['id']}"
    assert data["last_runs"]["tutup-keberatan"] is None
    assert data["last_runs"]["orkestrator-siklus"]["end"] is None


def test_flow_list_matches_the_flows() -> None:
    from prefect import Flow

    import flows

    found = set()
    for module in pkgutil.iter_modules(flows.__path__):
        mod = importlib.import_module(f"flows.{module.name}")
        found |= {v.name for v in vars(mod).values() if isinstance(v, Flow)}
    assert found == set(ops.FLOWS)


@pytest.mark.parametrize(("code", "periode", "names"), [
    ("perencanaan", 0, ["buka-perencanaan-siklus-7", "tutup-perencanaan-siklus-7"]),
    ("pemantauan", 3, ["buka-periode-3-siklus-7", "tutup-periode-3-siklus-7"]),
    ("keberatan", 0, ["tutup-keberatan-siklus-7"]),
])
def test_stage_run_names_follow_the_flows(code: str, periode: int, names: list[str]) -> None:
    from models.rules.enums import StageCode

    assert ops.stage_run_names(StageCode(code), periode, 7) == names


def test_rules() -> None:
    assert rules.is_failure("prefect.flow-run.TimedOut", "TimedOut")
    assert not rules.is_failure("prefect.flow-run.Completed", "Completed")
    assert not rules.is_failure("prefect.flow-run.Failed", "Crashed")
    assert rules.redact("x" * 700).endswith("…") and len(rules.redact("x" * 700)) == 600
    assert rules.redact("ke +62 812 3456 7890 dan siti.n@bkpsdm.go.id\n\n  ok") == \
        "ke [nomor] dan [email]\nok"
    assert rules.redact("siklus-12 periode 2 tahun 2027") == "siklus-12 periode 2 tahun 2027"
    key = rules.failure_key("kirim-email", "r1", "Crashed", "Ops@X.go.id")
    assert key == "kegagalan:kirim-email:r1:crashed:ops@x.go.id"
    long = rules.failure_key("kirim-email", "r" * 36, "Failed", "a" * 250 + "@x.id")
    assert len(long) <= 200 and long.startswith("kegagalan:kirim-email:")
    assert rules.cycle_of_run("tutup-periode-2-siklus-15") == 15
    assert rules.cycle_of_run("kirim-email") is None
    assert rules.format_duration(timedelta(seconds=3725)) == "1:02:05"
    assert rules.format_duration(timedelta(days=2, seconds=5)) == "2d 0:00:05"
    assert rules.format_duration(None) == "-"
    assert [rules.stage_state(o, c) for o, c in ((None, None), (NOW, None), (NOW, NOW))] == [
        "planned", "open", "closed"]


def test_webhook_secret_follows_the_app_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kinerja.settings import ApiSettings

    a = ops.ops_secret(ApiSettings(secret_key="satu", home=tmp_path))
    assert a == ops.ops_secret(ApiSettings(secret_key="satu", home=tmp_path)) and len(a) == 64
    assert a != ops.ops_secret(ApiSettings(secret_key="dua", home=tmp_path))
    assert "satu" not in a


def test_redact_hides_numbers_glued_to_words_and_emails() -> None:
    from models.rules.operasi import redact

    text = redact("gagal untuk nip_199001012015011002 (pegawai4@contoh.go.id) di baris 12")
    assert "199001012015011002" not in text and "pegawai4@" not in text
    assert "baris 12" in text  # short numbers are not personal data
