#!/usr/bin/env bash
# Queue throughput: AGENTS in-process device agents (the real agent loop and HTTP client, no-op
# jobs) lease and report against a registry started here on a fresh database, for SECONDS;
# prints jobs/s and the lease latency percentiles. Stops what it started.
#
#   bench/queue.sh                        (defaults: 50 agents, 10 s, 1500 variants = 7500 jobs)
#   AGENTS=20 SECONDS_=30 VARIANTS=4000 bench/queue.sh
#
# Needs: a JDK 17, PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; or set PGHOST/PGUSER), psql, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

AGENTS=${AGENTS:-50}
SECONDS_=${SECONDS_:-10}
VARIANTS=${VARIANTS:-1500}
REG_PORT=${REG_PORT:-18090}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
command -v psql >/dev/null || { echo "bench: psql is required (apt-get install postgresql-client)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/aneforge-queue-bench.XXXXXX)
echo "bench: building the registry jar and the load generator"
./mvnw -B -q -ntp -o -pl registry-api,benchmarks -am -DskipTests package \
  dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" -Dmdep.includeScope=runtime >/dev/null
JAR=$(ls registry-api/target/registry-api-*-exec.jar | head -n 1)
CP="benchmarks/target/classes:$(cat "$WORK/cp.txt")"

DB="aneforge_queue_bench_$$"
REG_PID=""
cleanup() {
  set +e
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q -d postgres -c "CREATE DATABASE $DB" >/dev/null

ADMIN="bench-admin-$RANDOM$RANDOM"
echo "bench: starting the registry on 127.0.0.1:$REG_PORT"
ANEFORGE_ADMIN_TOKEN="$ADMIN" ANEFORGE_DATA_DIR="$WORK/data" SERVER_PORT="$REG_PORT" SERVER_ADDRESS=127.0.0.1 \
  SPRING_DATASOURCE_URL="jdbc:postgresql://$PGHOST:5432/$DB" SPRING_DATASOURCE_USERNAME="$PGUSER" \
  java ${BENCH_JAVA_OPTS:--Xmx768m} -jar "$JAR" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
BASE="http://127.0.0.1:$REG_PORT"
for _ in $(seq 1 180); do
  curl -fs "$BASE/actuator/health" >/dev/null 2>&1 && break
  kill -0 "$REG_PID" 2>/dev/null || { echo "bench: the registry exited; log:" >&2; tail -n 40 "$WORK/registry.log" >&2; exit 1; }
  sleep 1
done
curl -fs "$BASE/actuator/health" >/dev/null || { echo "bench: registry not healthy after 180 s" >&2; tail -n 40 "$WORK/registry.log" >&2; exit 1; }

java -Xmx512m -cp "$CP" io.aneforge.bench.queue.QueueLoad "$BASE" "$ADMIN" "$AGENTS" "$SECONDS_" "$VARIANTS"
