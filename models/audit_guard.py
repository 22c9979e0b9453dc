"""The statements that make the audit log append-only (used by migration 0006, by the test
fixture that empties every table, and by restore)."""

AUDIT_GUARD_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS auditlog_no_update BEFORE UPDATE ON auditlog "
    "BEGIN SELECT RAISE(ABORT, 'auditlog is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS auditlog_no_delete BEFORE DELETE ON auditlog "
    "BEGIN SELECT RAISE(ABORT, 'auditlog is append-only'); END",
)
AUDIT_GUARD_PG = (
    "CREATE OR REPLACE FUNCTION auditlog_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'auditlog is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS auditlog_no_change ON auditlog",
    "CREATE TRIGGER auditlog_no_change BEFORE UPDATE OR DELETE ON auditlog "
    "FOR EACH ROW EXECUTE FUNCTION auditlog_append_only()",
)
