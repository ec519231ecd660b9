#!/usr/bin/env bash
# Runs the Swift benchmarks and the numpy reference back to back, with the same thread count
# (OPENBLAS_NUM_THREADS for numpy, --threads for Swift), and prints the ratios Swift/numpy.
#
#   Benchmarks/compare.sh            everything (~2 minutes)
#   Benchmarks/compare.sh gemm       only the matrix products
#   Benchmarks/compare.sh mlp        only the MLP training runs
#   EPOCHS=3 Benchmarks/compare.sh   fewer epochs per MLP run (default 5)
#   ROUNDS=9 Benchmarks/compare.sh   more alternating GEMM rounds (default 7)
#
# The host's speed drifts by tens of percent within minutes, so the GEMM figures are paired:
# Swift and numpy take turns for ROUNDS rounds of 5 samples each (numpy first in every other
# round), each round gives a ratio of the two round medians, and a figure's ratio is the median
# of those paired ratios, its spread their min and max. Each numpy round runs all the shapes in
# one process in a fixed order, as Swift does: OpenBLAS is several times slower on a product
# run first in a fresh process (dW alone: ~11 instead of ~35 GFLOP/s here), which would
# flatter Swift. The MLP runs are single, long runs.
# OPENBLAS_CORETYPE, if set in the environment, is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
epochs=${EPOCHS:-5}
rounds=${ROUNDS:-7}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
touch "$out/swift" "$out/numpy"

swift build -c release --product bench >/dev/null
bench=.build/release/bench
numpy="python3 Benchmarks/numpy_reference.py"

run_swift() { "$bench" "$@" | tee -a "$out/swift"; }
run_numpy() { OPENBLAS_NUM_THREADS=$2 $numpy "$1" --threads "$2" "${@:3}" | tee -a "$out/numpy"; }
run_pair() {  # mode, threads, flags... (Swift first)
    run_swift "$1" --threads "$2" "${@:3}"
    run_numpy "$@"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; numpy $(python3 -c 'import numpy; print(numpy.__version__)'); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
if [[ $what == all || $what == gemm ]]; then
    for round in $(seq "$rounds"); do
        for threads in 1 2; do
            if (( round % 2 )); then run_pair gemm "$threads" --runs 5
            else run_numpy gemm "$threads" --runs 5; run_swift gemm --threads "$threads" --runs 5; fi
        done
    done
fi
if [[ $what == all || $what == mlp ]]; then
    for threads in 1 2; do
        run_pair mlp "$threads" --sizes 784,256,128,10 --activation relu --init he --batch 128 --lr 0.1 --epochs "$epochs"
    done
    run_pair mlp 1 --sizes 784,50,10 --activation sigmoid --init normal:0.01 --batch 100 --lr 0.1 --epochs "$epochs"
fi
if [[ $what == all || $what == sqrt ]]; then
    "$bench" sqrt
fi

echo
echo "ratios Swift / numpy (higher is faster for Swift)"
echo "  paired rounds: median of the rounds' ratios, spread = their min and max"
echo "  single runs: spread = min/max of Swift over max/min of numpy"
python3 - "$out/swift" "$out/numpy" <<'PY'
import re, statistics, sys
pattern = re.compile(r"^(.*): median ([0-9.]+) (\S+) \(min ([0-9.]+), max ([0-9.]+), n=(\d+)\)")
def read(path):
    rounds = {}
    for line in open(path):
        m = pattern.match(line.strip())
        if m:
            rounds.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(4)), float(m.group(5)), m.group(3)))
    return rounds
swift, numpy = read(sys.argv[1]), read(sys.argv[2])
for name, runs in swift.items():
    if name not in numpy:
        continue
    others, unit = numpy[name], runs[0][3]
    median = statistics.median(r[0] for r in runs)
    n_median = statistics.median(r[0] for r in others)
    if len(runs) > 1 and len(runs) == len(others):
        # The k-th Swift round and the k-th numpy round ran back to back.
        ratios = [s[0] / n[0] for s, n in zip(runs, others)]
        print(f"{name}: {statistics.median(ratios):.2f}x  (spread {min(ratios):.2f}-{max(ratios):.2f} over "
              f"{len(ratios)} paired rounds; Swift {median:g} vs numpy {n_median:g} {unit})")
    else:
        low, high = min(r[1] for r in runs), max(r[2] for r in runs)
        n_low, n_high = min(r[1] for r in others), max(r[2] for r in others)
        print(f"{name}: {median / n_median:.2f}x  (spread {low / n_high:.2f}-{high / n_low:.2f}; "
              f"Swift {median:g} vs numpy {n_median:g} {unit})")
PY
