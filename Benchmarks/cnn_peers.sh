#!/usr/bin/env bash
# PyTorch's MNIST example CNN in Swift (bench cnn) and in PyTorch (../shared/bench/torch_cnn.py,
# or $TORCH_CNN), alternated round by round at 1 and 2 threads, batch 64, Adam; prints each
# run's samples/s and the ratio Swift/PyTorch with its spread (median, min-max over the rounds).
# Needs PyTorch (pip install torch; benchmarking only).
#
#   Benchmarks/cnn_peers.sh                 3 rounds of 200 minibatches per run
#   ROUNDS=5 BATCHES=300 Benchmarks/cnn_peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
batches=${BATCHES:-200}
torch_cnn=${TORCH_CNN:-../shared/bench/torch_cnn.py}
swift build -c release --product bench >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
median() { awk '/samples\/s/ && !done { sub(/.*median /, ""); sub(/ samples.*/, ""); print; done = 1 }'; }
for ((r = 1; r <= rounds; r++)); do
    for threads in 1 2; do
        swift=$(.build/release/bench cnn --threads "$threads" --batches "$((batches / 4))" --runs 4 | median)
        torch=$(python3 "$torch_cnn" --threads "$threads" --epochs 1 --batches "$batches" --optimizer adam 2>/dev/null | median)
        echo "round $r threads=$threads swift $swift torch $torch" | tee -a "$out/results"
    done
done
python3 - "$out/results" <<'PY'
import collections, statistics, sys
ratios = collections.defaultdict(list)
for line in open(sys.argv[1]):
    words = line.split()
    ratios[words[2]].append(float(words[4]) / float(words[6]))
print("\nratios Swift / PyTorch (higher is faster for Swift): median (min-max over the rounds)")
for threads, values in ratios.items():
    print(f"  cnn {threads}: {statistics.median(values):.2f}× ({min(values):.2f}-{max(values):.2f})")
PY
