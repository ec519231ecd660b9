#!/usr/bin/env bash
# Two-thread scaling of the MLP: `bench mlp` at 1 thread, at 2 threads splitting the batch (its
# default) and at 2 threads splitting each product (example-mnist's default), run one after
# another round by round, so the host's drift falls on all three alike; prints each round and
# the ratios to 1 thread (median, min-max over the rounds).
#
#   Benchmarks/scaling.sh                5 rounds of 2 epochs (~3 minutes)
#   ROUNDS=9 EPOCHS=3 Benchmarks/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
epochs=${EPOCHS:-2}
swift build -c release --product bench >/dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
run() {
    .build/release/bench mlp --epochs "$epochs" "$@" 2>/dev/null | awk '/train:/ && !done { sub(/.*median /, ""); sub(/ samples.*/, ""); print; done = 1 }'
}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
    one=$(run --threads 1)
    batch=$(run --threads 2 --parallel batch)
    products=$(run --threads 2 --parallel gemm)
    echo "round $r: 1 thread $one, 2 threads batch $batch, products $products samples/s"
    echo "$one $batch $products" >>"$results"
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
for name, column in [("batch split", 1), ("product split", 2)]:
    ratios = [row[column] / row[0] for row in rows]
    print(f"2 threads ({name}) / 1 thread: {statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f}) over {len(ratios)} rounds")
PY
