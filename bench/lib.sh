# Shared by the bench/*.sh scripts that run a registry: sourced, not executed.
#
#   bench_start_registry <jar> <port> <database> <work-dir> <admin-token> [java options...]
#
# Creates <database> (dropped again by bench_stop_registry), starts the registry jar on
# 127.0.0.1:<port> with its data under <work-dir>/data and its log in <work-dir>/registry.log,
# and waits until it reports healthy. Sets REG_PID and BASE.

REG_PID=""
BENCH_DB=""

bench_start_registry() {
  local jar=$1 port=$2 db=$3 work=$4 admin=$5; shift 5
  BENCH_DB=$db
  psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null
  echo "bench: starting the registry ($jar) on 127.0.0.1:$port"
  ANEFORGE_ADMIN_TOKEN="$admin" ANEFORGE_DATA_DIR="$work/data" SERVER_PORT="$port" SERVER_ADDRESS=127.0.0.1 \
    SPRING_DATASOURCE_URL="jdbc:postgresql://$PGHOST:5432/$db" SPRING_DATASOURCE_USERNAME="$PGUSER" \
    java "$@" -jar "$jar" >"$work/registry.log" 2>&1 &
  REG_PID=$!
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 180); do
    curl -fs "$BASE/actuator/health" >/dev/null 2>&1 && return 0
    kill -0 "$REG_PID" 2>/dev/null || { echo "bench: the registry exited; log:" >&2; tail -n 40 "$work/registry.log" >&2; return 1; }
    sleep 1
  done
  echo "bench: registry not healthy after 180 s" >&2
  tail -n 40 "$work/registry.log" >&2
  return 1
}

# Stops the registry bench_start_registry started and drops its database (safe to call twice).
bench_stop_registry() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  REG_PID=""
  [ -n "$BENCH_DB" ] && psql -q -d postgres -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1
  BENCH_DB=""
  return 0
}
