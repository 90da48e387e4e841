#!/usr/bin/env bash
# Old and new converter side by side in one JVM: a default `convert` of all-MiniLM-L6-v2 per build
# per round, alternating, each build in its own class loader (io.aneforge.bench.ConvertAB).
#   bench/ab.sh <old-revision> [samples=8] [warm-up rounds=25] [rounds=20]
# Builds <old-revision> in a git worktree under ${TMPDIR:-/tmp} (kept for the next run) and this
# checkout as it is (uncommitted changes included). Prints wall and CPU medians per build and the
# median of the per-round new/old ratios. Takes about (warm-up + rounds) × 2 converts.
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: bench/ab.sh <old-revision> [samples] [warm-up rounds] [rounds]}
samples=${2:-8}
warmup=${3:-25}
rounds=${4:-20}
old_sha=$(git rev-parse --verify "$old_rev^{commit}")
old_tree="${TMPDIR:-/tmp}/aneforge-ab-${old_sha:0:12}"
if [ ! -d "$old_tree" ]; then
  git worktree add --detach "$old_tree" "$old_sha" >/dev/null
fi
classpath() { # <tree> <file>: the tree's benchmarks module with its dependencies, built in one reactor run
  (cd "$1" && ./mvnw -B -q -ntp -pl benchmarks -am package dependency:build-classpath -DskipTests \
    -Dmdep.outputFile="$2" >/dev/null)
  echo "$1/benchmarks/target/classes:$(cat "$2")"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
old_cp=$(classpath "$old_tree" "$tmp/old.txt")
new_cp=$(classpath "$PWD" "$tmp/new.txt")
echo "ab: old $old_sha, new $(git rev-parse HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes'); samples $samples, $warmup warm-up rounds, $rounds rounds"
exec java -Xms6g -Xmx6g -Xss16m --add-modules=jdk.incubator.vector \
  -cp benchmarks/target/classes io.aneforge.bench.ConvertAB "$old_cp" "$new_cp" "$samples" "$warmup" "$rounds"
