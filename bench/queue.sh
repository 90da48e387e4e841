#!/usr/bin/env bash
# Queue throughput: AGENTS in-process device agents (the real agent loop and HTTP client, no-op
# jobs) lease and report against a registry started here on a fresh database, for SECONDS;
# prints jobs/s and the lease latency percentiles. Stops what it started.
#
#   bench/queue.sh                        (defaults: 50 agents, 10 s measured after 20 s of warm-up,
#                                          6000 variants = 30000 jobs)
#   AGENTS=20 SECONDS_=30 WARMUP=20 VARIANTS=8000 bench/queue.sh
#
# Needs: a JDK 17, PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; or set PGHOST/PGUSER), psql, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

AGENTS=${AGENTS:-50}
SECONDS_=${SECONDS_:-10}
VARIANTS=${VARIANTS:-6000}
WARMUP=${WARMUP:-20}
REG_PORT=${REG_PORT:-18090}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
command -v psql >/dev/null || { echo "bench: psql is required (apt-get install postgresql-client)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/aneforge-queue-bench.XXXXXX)
. bench/lib.sh
cleanup() {
  set +e
  bench_stop_registry
  rm -rf "$WORK"
}
trap cleanup EXIT
echo "bench: building the registry jar and the load generator"
./mvnw -B -q -ntp -pl registry-api,benchmarks -am -DskipTests package \
  dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" -Dmdep.includeScope=runtime >/dev/null
JAR=$(ls registry-api/target/registry-api-*-exec.jar | head -n 1)
CP="benchmarks/target/classes:$(cat "$WORK/cp.txt")"

DB="aneforge_queue_bench_$$"
ADMIN="bench-admin-$RANDOM$RANDOM"
# shellcheck disable=SC2086
bench_start_registry "$JAR" "$REG_PORT" "$DB" "$WORK" "$ADMIN" ${BENCH_JAVA_OPTS:--Xmx768m}

# The load generator also reports the CPU each job cost the registry, PostgreSQL (this database's
# backends and the WAL writer) and itself: a number that, unlike jobs/s, holds on a busy machine.
QUEUE_REGISTRY_PID="$REG_PID" QUEUE_DATABASE="$DB" \
  java -Xmx512m -cp "$CP" io.aneforge.bench.queue.QueueLoad "$BASE" "$ADMIN" "$AGENTS" "$SECONDS_" "$VARIANTS" "$WARMUP"
