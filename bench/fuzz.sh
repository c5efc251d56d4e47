#!/usr/bin/env bash
# fuzz.sh — coverage-guided fuzzing of the whole pipeline (unwrap → kallsyms → layout → exports →
# Module.symvers) with Jazzer (libFuzzer for the JVM), from the seeds in core/src/test/resources/fuzz/seeds.
# A finding (an exception other than our KernelFormatException, a hang past 30 s, running out of
# the 2 GiB heap) stops the run with exit 1 and leaves the input in core/target/fuzz/crash-*: copy it to
# core/src/test/resources/fuzz/regressions/ (FuzzRegressionTest replays it), fix, and run again.
#
# usage: bench/fuzz.sh [SECONDS]      (default 180: what .ci/run does; run for hours by hand)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-180}
cd "$here"
mvn -q -B -DskipTests -pl core -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
cd core
mkdir -p target/fuzz/corpus
cp="target/test-classes:target/classes:$(cat target/test.classpath)"
java -Xmx2g -XX:-OmitStackTraceInFastThrow -cp "$cp" com.code_intelligence.jazzer.Jazzer \
  --target_class=kernelloader.fuzz.PipelineFuzzTarget --instrumentation_includes='kernelloader.**' --reproducer_path=target/fuzz \
  -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=target/fuzz/ \
  target/fuzz/corpus src/test/resources/fuzz/seeds 2>&1 | tee target/fuzz/last-run.log | grep -E "^#|INFO: (seed|Running)|==|DONE|Exception|crash-" | tail -40
exit "${PIPESTATUS[0]}"
