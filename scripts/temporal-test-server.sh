#!/usr/bin/env bash
# Runs Temporal's time-skipping test server (the Java one from Maven Central, pinned in
# scripts/test-server/pom.xml) as `temporal-test-server.sh <port> [args]`, the way the SDK runs
# its native build. The classpath is resolved once into .tools/test-server/classpath.txt.
#   temporal-test-server.sh --check   exits 0 when Java and the classpath are available
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cp_file="$root/.tools/test-server/classpath.txt"
if [ ! -s "$cp_file" ]; then
  command -v mvn >/dev/null && command -v java >/dev/null || { echo "temporal-test-server: needs java and mvn" >&2; exit 3; }
  mkdir -p "$(dirname "$cp_file")"
  mvn -q -f "$root/scripts/test-server/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp_file" >&2
fi
[ "${1:-}" = "--check" ] && exit 0
# C1 only and the serial collector: the server starts with less CPU, so it still comes up within
# the SDK's fixed start timeout on a loaded machine (its workload in the tests is small).
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$(cat "$cp_file")" io.temporal.testserver.TestServer "$@"
