#!/usr/bin/env bash
# Pipeline benchmark: publish -> READY for all-MiniLM-L6-v2 with the default recipe (real registry,
# PostgreSQL, embedded S3, one converter worker, local snapshot source) next to the same variants
# built locally in the same run: `./aneforge convert` when present, and the same work in-process.
# Target: pipeline overhead <= 25 %.
#
#   bench/pipeline.sh                          (chips A17_PRO, seq 128, concurrency 1)
#   CHIPS=A17_PRO,M4 SEQ_LEN=128 CONCURRENCY=2 bench/pipeline.sh
#
# Needs: a JDK 17 and PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; ANEFORGE_TEST_JDBC_URL
# overrides); each run uses a fresh database (test-support TestDatabase).
set -euo pipefail
cd "$(dirname "$0")/.."
CHIPS=${CHIPS:-A17_PRO}
SEQ_LEN=${SEQ_LEN:-128}
CONCURRENCY=${CONCURRENCY:-1}
CP_FILE=$(mktemp)
# Through the reactor (siblings resolve to their target/classes); converter-worker writes the file last.
./mvnw -B -ntp -q -pl converter-worker -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE"
CP="converter-worker/target/test-classes:converter-worker/target/classes:$(cat "$CP_FILE")"
rm -f "$CP_FILE"
# The same Vector API kernels as `./aneforge` and the worker image use.
exec java -Xmx3g --add-modules jdk.incubator.vector -cp "$CP" io.aneforge.worker.PipelineBench "$PWD" "$CHIPS" "$SEQ_LEN" "$CONCURRENCY"
