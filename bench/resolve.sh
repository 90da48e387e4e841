#!/usr/bin/env bash
# Resolve benchmark: the registry's resolve endpoint next to nginx serving a static JSON file of
# the same size, both on loopback, measured by wrk in the same run so the ratio survives a noisy
# machine. Starts everything it needs and stops what it started.
#
#   bench/resolve.sh                 (defaults: wrk -t2 -c32 -d10s --latency)
#   DURATION=30s CONNECTIONS=64 bench/resolve.sh
#   SIGNED=true bench/resolve.sh     (resolve?...&signed=true: a signed downloadUrl minted per request)
#
# Needs: a JDK 17, PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; or set PGHOST/PGUSER),
# psql. Installs nginx and wrk with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-8s}
REG_PORT=${REG_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
  echo "bench: installing nginx and wrk with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q nginx-light wrk >/dev/null 2>&1 || apt-get install -y -q nginx wrk >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
need psql || { echo "bench: psql is required to create the benchmark database (apt-get install postgresql-client)" >&2; exit 1; }

# Always packaged (as bench/queue.sh does): a jar left over from an older checkout would measure old
# code. Maven compiles only what changed, so an up-to-date tree costs a repackage.
echo "bench: building the registry jar"
./mvnw -B -q -ntp -pl registry-api -am package -DskipTests >/dev/null
JAR=$(ls registry-api/target/registry-api-*-exec.jar | head -n 1)

WORK=$(mktemp -d /tmp/aneforge-bench.XXXXXX)
chmod 755 "$WORK" # nginx workers run unprivileged and must read www/
. bench/lib.sh
cleanup() {
  set +e
  bench_stop_registry
  [ -f "$WORK/nginx.pid" ] && "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -s stop 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ADMIN="bench-admin-$RANDOM$RANDOM"
SIGNED=${SIGNED:-false}
if [ "$SIGNED" = true ]; then
  # a throw-away key for this run only: signed answers need one (409 signed-urls-off without)
  ANEFORGE_DOWNLOAD_SIGNING_KEY=$(head -c 32 /dev/urandom | base64)
  export ANEFORGE_DOWNLOAD_SIGNING_KEY
fi
# shellcheck disable=SC2086
bench_start_registry "$JAR" "$REG_PORT" "aneforge_bench_$$" "$WORK" "$ADMIN" ${BENCH_JAVA_OPTS:--Xmx512m}

api() { # method path token [curl args...]; a refusal is printed with its body (the problem detail)
  local m=$1 p=$2 t=$3 out; shift 3
  if ! out=$(curl -sS --fail-with-body -X "$m" -H "Authorization: Bearer $t" "$@" "$BASE$p"); then
    echo "bench: $m $p failed: $out" >&2
    return 1
  fi
  printf '%s' "$out"
}
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

echo "bench: seeding a model, version, variant and alias through the API"
PUB=$(api POST /api/v1/tokens "$ADMIN" -H 'Content-Type: application/json' -d '{"name":"bench-publisher","role":"publisher"}' | json_field token)
READER=$(api POST /api/v1/tokens "$ADMIN" -H 'Content-Type: application/json' -d '{"name":"bench-reader","role":"reader"}' | json_field token)
api POST /api/v1/models "$PUB" -H 'Content-Type: application/json' -d '{"name":"bench-model","task":"feature-extraction"}' >/dev/null
api POST /api/v1/models/bench-model/versions "$PUB" -H 'Content-Type: application/json' -d '{"source":{"type":"upload"}}' >/dev/null
# A real package: the registry reads the manifest and the model and checks them against the declared facts
# (coremltools' tiny_fp16 fixture: an iOS 18 program whose first input is (1, 4, 64), so seqLen 4).
(cd device-agent/src/test/resources/coreml && jar cfM "$WORK/bench.zip" tiny_fp16.mlpackage)
HEX=$(sha256sum "$WORK/bench.zip" | cut -d' ' -f1)
api PUT "/api/v1/blobs/sha256:$HEX" "$PUB" -H 'Content-Type: application/zip' --data-binary "@$WORK/bench.zip" >/dev/null
api POST /api/v1/models/bench-model/versions/1/variants "$PUB" -H 'Content-Type: application/json' \
  -d "{\"chip\":\"A17_PRO\",\"deploymentTarget\":\"18.0\",\"layout\":\"ane\",\"precision\":\"fp16\",\"seqLen\":4,\"digest\":\"sha256:$HEX\"}" >/dev/null
# no golden data (the benchmark measures resolve, not accuracy): published with the explicit opt-out
api POST /api/v1/models/bench-model/versions/1/publish "$PUB" -H 'Content-Type: application/json' \
  -d '{"withoutGoldenData":true,"reason":"resolve benchmark: accuracy not measured"}' >/dev/null
api PUT /api/v1/models/bench-model/aliases/production "$PUB" -H 'Content-Type: application/json' \
  -d '{"version":1,"reason":"benchmark"}' >/dev/null

RESOLVE="/api/v1/models/bench-model/resolve?device=iPhone16,1&os=18.2&alias=production"
[ "$SIGNED" = true ] && RESOLVE="$RESOLVE&signed=true"
mkdir -p "$WORK/www"
api GET "$RESOLVE" "$READER" >"$WORK/www/resolve.json"
echo "bench: resolve answer ($(wc -c <"$WORK/www/resolve.json") bytes): $(cat "$WORK/www/resolve.json")"

cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    location / { try_files /resolve.json =404; }
  }
}
EOF
mkdir -p "$WORK/tmp"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"
curl -fs "http://127.0.0.1:$NGINX_PORT$RESOLVE" >/dev/null || { echo "bench: nginx does not serve the static copy" >&2; cat "$WORK/nginx-error.log" >&2; exit 1; }

WRK_ARGS=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $READER")
echo "bench: warming up the registry for $WARMUP"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $READER" "$BASE$RESOLVE" >/dev/null

echo "bench: wrk ${WRK_ARGS[*]:0:4} against nginx (static copy of the answer)"
wrk "${WRK_ARGS[@]}" "http://127.0.0.1:$NGINX_PORT$RESOLVE" >"$WORK/nginx.wrk"
echo "bench: wrk ${WRK_ARGS[*]:0:4} against the registry resolve endpoint"
wrk "${WRK_ARGS[@]}" "$BASE$RESOLVE" >"$WORK/registry.wrk"

# Prints "rps p50_ms p99_ms non2xx" from a wrk --latency report.
summarize() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%s %.3f %.3f %d\n", rps, p50, p99, bad }' "$1"
}
read -r N_RPS N_P50 N_P99 N_BAD < <(summarize "$WORK/nginx.wrk")
read -r R_RPS R_P50 R_P99 R_BAD < <(summarize "$WORK/registry.wrk")
RATIO=$(awk -v r="$R_RPS" -v n="$N_RPS" 'BEGIN { printf "%.3f", r / n }')

echo
printf '%-10s %12s %10s %10s %8s\n' target 'requests/s' 'p50 ms' 'p99 ms' non-2xx
printf '%-10s %12s %10s %10s %8s\n' nginx "$N_RPS" "$N_P50" "$N_P99" "$N_BAD"
printf '%-10s %12s %10s %10s %8s\n' registry "$R_RPS" "$R_P50" "$R_P99" "$R_BAD"
echo "ratio registry/nginx requests/s: $RATIO (target >= 0.3; registry p99 target < 20 ms)"
# Errors are fast: a side answering 401/404/5xx would post a flattering rate, so the run fails.
failed=0
if [ "$N_BAD" != "0" ]; then
  echo "bench: FAILED: nginx answered $N_BAD non-2xx responses; the numbers above are not comparable. nginx error log:" >&2
  tail -n 20 "$WORK/nginx-error.log" >&2
  failed=1
fi
if [ "$R_BAD" != "0" ]; then
  echo "bench: FAILED: the registry answered $R_BAD non-2xx responses; the numbers above are not comparable. Registry log:" >&2
  tail -n 20 "$WORK/registry.log" >&2
  failed=1
fi
exit "$failed"
