#!/usr/bin/env bash
# Runs the Swift benchmarks and the numpy reference back to back, with the same thread count
# (OPENBLAS_NUM_THREADS for numpy, --threads for Swift), and prints the ratios Swift/numpy.
#
#   Benchmarks/compare.sh            everything (~2 minutes)
#   Benchmarks/compare.sh gemm       only the matrix products
#   Benchmarks/compare.sh mlp        only the MLP training runs
#   EPOCHS=3 Benchmarks/compare.sh   fewer epochs per MLP run (default 5)
#   ROUNDS=5 Benchmarks/compare.sh   more alternating GEMM rounds (default 3)
#
# The host's speed drifts by tens of percent within minutes, so the GEMM figures alternate:
# Swift and numpy take turns for ROUNDS rounds of 5 samples each, and a figure's median is the
# median of its round medians (min and max over all rounds). The MLP runs are single, long runs.
# OPENBLAS_CORETYPE, if set in the environment, is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
epochs=${EPOCHS:-5}
rounds=${ROUNDS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
touch "$out/swift" "$out/numpy"

swift build -c release --product bench >/dev/null
bench=.build/release/bench
numpy="python3 Benchmarks/numpy_reference.py"

run_pair() {  # threads, mode, flags...
    local threads=$1 mode=$2
    shift 2
    "$bench" "$mode" --threads "$threads" "$@" | tee -a "$out/swift"
    OPENBLAS_NUM_THREADS=$threads $numpy "$mode" --threads "$threads" "$@" | tee -a "$out/numpy"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; numpy $(python3 -c 'import numpy; print(numpy.__version__)'); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
if [[ $what == all || $what == gemm ]]; then
    for round in $(seq "$rounds"); do
        for threads in 1 2; do run_pair "$threads" gemm --runs 5; done
    done
fi
if [[ $what == all || $what == mlp ]]; then
    for threads in 1 2; do
        run_pair "$threads" mlp --sizes 784,256,128,10 --activation relu --init he --batch 128 --lr 0.1 --epochs "$epochs"
    done
    run_pair 1 mlp --sizes 784,50,10 --activation sigmoid --init normal:0.01 --batch 100 --lr 0.1 --epochs "$epochs"
fi
if [[ $what == all || $what == sqrt ]]; then
    "$bench" sqrt
fi

echo
echo "ratios Swift / numpy (higher is faster for Swift; spread = min/max of Swift over max/min of numpy)"
python3 - "$out/swift" "$out/numpy" <<'PY'
import re, sys
pattern = re.compile(r"^(.*): median ([0-9.]+) (\S+) \(min ([0-9.]+), max ([0-9.]+), n=(\d+)\)")
def read(path):
    rounds = {}
    for line in open(path):
        m = pattern.match(line.strip())
        if m:
            rounds.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(4)), float(m.group(5)), m.group(3)))
    rows = {}
    for name, runs in rounds.items():
        medians = sorted(r[0] for r in runs)
        rows[name] = (medians[len(medians) // 2], min(r[1] for r in runs), max(r[2] for r in runs), runs[0][3])
    return rows
swift, numpy = read(sys.argv[1]), read(sys.argv[2])
for name, (median, low, high, unit) in swift.items():
    if name not in numpy:
        continue
    n_median, n_low, n_high, _ = numpy[name]
    print(f"{name}: {median / n_median:.2f}x  (spread {low / n_high:.2f}-{high / n_low:.2f}; "
          f"Swift {median:g} vs numpy {n_median:g} {unit})")
PY
