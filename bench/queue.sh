#!/usr/bin/env bash
# Queue throughput: AGENTS in-process device agents (the real agent loop and HTTP client, no-op
# jobs) lease and report against a registry started here on a fresh database, for SECONDS;
# prints jobs/s and the lease latency percentiles. Stops what it started.
#
#   bench/queue.sh                        (defaults: 50 agents, 10 s measured after 20 s of warm-up,
#                                          6000 variants = 30000 jobs)
#   AGENTS=20 SECONDS_=30 WARMUP=20 VARIANTS=8000 bench/queue.sh
#   REGISTRY_JAR=/tmp/old/registry-api/target/registry-api-0.1.0-SNAPSHOT-exec.jar bench/queue.sh
#                                         (a registry jar built elsewhere, e.g. an older checkout, driven by
#                                          this checkout's load generator: old and new side by side)
#   BUILD=false bench/queue.sh            (no Maven build: the jar and load generator as last built here)
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
# The load generator's classpath is kept in benchmarks/target, so that BUILD=false (runs back to back, on a
# machine where a Maven build takes minutes) reuses what the last build wrote instead of building again.
CP_FILE=benchmarks/target/queue-classpath.txt
if [ -n "${REGISTRY_JAR:-}" ]; then
  [ -f "$REGISTRY_JAR" ] || { echo "bench: REGISTRY_JAR $REGISTRY_JAR is not a file; build it first (mvnw -pl registry-api -am package)" >&2; exit 1; }
  MODULES=benchmarks
else
  MODULES=registry-api,benchmarks
fi
if [ "${BUILD:-true}" = false ]; then
  [ -f "$CP_FILE" ] || { echo "bench: BUILD=false but $CP_FILE is missing; run once without BUILD=false" >&2; exit 1; }
  echo "bench: not building (BUILD=false): the load generator as last built${REGISTRY_JAR:+, the registry $REGISTRY_JAR}"
else
  echo "bench: building $MODULES (with what they depend on)"
  mkdir -p benchmarks/target
  ./mvnw -B -q -ntp -pl "$MODULES" -am -DskipTests package \
    dependency:build-classpath -Dmdep.outputFile="$PWD/$CP_FILE" -Dmdep.includeScope=runtime >/dev/null
fi
JAR=${REGISTRY_JAR:-$(ls registry-api/target/registry-api-*-exec.jar | head -n 1)}
CP="benchmarks/target/classes:$(cat "$CP_FILE")"

DB="aneforge_queue_bench_$$"
ADMIN="bench-admin-$RANDOM$RANDOM"
# shellcheck disable=SC2086
bench_start_registry "$JAR" "$REG_PORT" "$DB" "$WORK" "$ADMIN" ${BENCH_JAVA_OPTS:--Xmx768m}

# The load generator also reports the CPU each job cost the registry, PostgreSQL (this database's
# backends and the WAL writer) and itself: a number that, unlike jobs/s, holds on a busy machine.
QUEUE_REGISTRY_PID="$REG_PID" QUEUE_DATABASE="$DB" \
  java -Xmx512m -cp "$CP" io.aneforge.bench.queue.QueueLoad "$BASE" "$ADMIN" "$AGENTS" "$SECONDS_" "$VARIANTS" "$WARMUP"
