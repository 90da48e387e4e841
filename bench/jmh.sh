#!/usr/bin/env bash
# Runs the JMH benchmarks (benchmarks/ module). Each benchmark class measures the
# feature next to its baseline in the same run, so ratios survive a noisy machine.
#   bench/jmh.sh                     all benchmarks
#   bench/jmh.sh 'Safetensors.*' -f 1 -wi 2 -i 3    a selection, with JMH options
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -ntp -pl benchmarks -am -DskipTests install
args="${*:-.*}"
./mvnw -B -q -ntp -pl benchmarks exec:exec -Djmh.args="$args"
