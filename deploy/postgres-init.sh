#!/bin/sh
# Run once by the postgres image on its first start (docker-entrypoint-initdb.d), as the
# superuser: the app's role and database, Prefect's role and database, and the pg_trgm
# extension that Prefect's migrations need (creating it needs a superuser). See
# deploy/compose.yaml; the same statements by hand are in docs/production.md.
set -eu
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
     -v kinerja_pw="$KINERJA_DB_PASSWORD" -v prefect_pw="$PREFECT_DB_PASSWORD" <<'SQL'
CREATE ROLE kinerja LOGIN PASSWORD :'kinerja_pw';
CREATE ROLE prefect LOGIN PASSWORD :'prefect_pw';
CREATE DATABASE kinerja OWNER kinerja;
CREATE DATABASE prefect OWNER prefect;
\connect prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
