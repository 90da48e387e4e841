#!/usr/bin/env bash
# Runs the JMH benchmarks (benchmarks/ module). Each benchmark class measures the
# feature next to its baseline in the same run, so ratios survive a noisy machine.
#   bench/jmh.sh                                     all benchmarks
#   bench/jmh.sh 'QuantizerBenchmark' -f 1 -wi 2 -i 3   a selection, with JMH options
# Builds through the reactor (no `install`), then runs JMH on the module's classpath.
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
# In one reactor run, so ane-core resolves to this checkout's build, never a stale
# SNAPSHOT in ~/.m2; benchmarks is built last, so the file ends up holding its classpath.
./mvnw -B -q -ntp -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$cp_file" >/dev/null
classpath="benchmarks/target/classes:$(cat "$cp_file")"
if [ "$#" -eq 0 ]; then set -- '.*'; fi
# -foe true: a benchmark that throws fails the run (exit status 1) instead of leaving its row out
# of the table with exit status 0. Given explicitly (JMH's `-foe <bool>`; its option parser also takes
# -foe=<bool> and --foe), the caller's choice stands.
foe=(-foe true)
for arg in "$@"; do
  case "$arg" in
    -foe | -foe=* | --foe | --foe=*) foe=() ;;
  esac
done
# ${foe[@]+...}: an empty array under `set -u` is an "unbound variable" error on bash before 4.4
# (macOS ships 3.2).
exec java -cp "$classpath" org.openjdk.jmh.Main ${foe[@]+"${foe[@]}"} "$@"
