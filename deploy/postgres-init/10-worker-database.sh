#!/bin/sh
# Mounted into the postgres container's /docker-entrypoint-initdb.d by docker-compose.yml: runs once, when the
# container initialises an empty data volume (not on later starts, and not for a volume created before this
# script existed: docs/deploy.md, "The worker's database", gives the same statements to run by hand).
#
# The converter workers keep only their Spring Batch job repository in PostgreSQL. They get a role and a
# database of their own, so a worker's credentials cannot read or change the registry's tables.
set -eu

worker_user="${ANEFORGE_WORKER_DB_USER:-aneforge_worker}"
worker_db="${ANEFORGE_WORKER_DB_NAME:-$worker_user}"
: "${ANEFORGE_WORKER_DB_PASSWORD:?set ANEFORGE_WORKER_DB_PASSWORD (the converter workers' database password)}"

# psql variables (:"name" an identifier, :'name' a literal) quote the values, whatever they hold.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v worker_user="$worker_user" -v worker_db="$worker_db" -v worker_password="$ANEFORGE_WORKER_DB_PASSWORD" \
  -v registry_db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"worker_user" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'worker_password';
CREATE DATABASE :"worker_db" OWNER :"worker_user";
-- PUBLIC may connect to every database by default; the registry's is for the registry's user only.
REVOKE CONNECT ON DATABASE :"registry_db" FROM PUBLIC;
SQL
