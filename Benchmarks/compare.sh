#!/usr/bin/env bash
# Runs the Swift benchmarks and the numpy reference back to back, with the same thread count
# (OPENBLAS_NUM_THREADS for numpy, --threads for Swift), and prints the ratios Swift/numpy.
#
#   Benchmarks/compare.sh            everything (~5 minutes)
#   Benchmarks/compare.sh gemm       only the matrix products
#   Benchmarks/compare.sh mlp        only the MLP training runs
#   EPOCHS=3 Benchmarks/compare.sh   fewer epochs per MLP run (default 5)
#   ROUNDS=100 Benchmarks/compare.sh more GEMM samples per shape (default 60; 2 threads: a fifth)
#
# The host's speed drifts by tens of percent within seconds to minutes, so the GEMM figures
# come from Benchmarks/gemm_pairs.py: at 1 thread both programs stay alive and take turns one
# ~20 ms sample at a time; a figure's ratio is the median of the ratios of neighbouring samples,
# its spread their quartiles (at 2 threads they take turns a process at a time; see there).
# Both warm every shape up first, in the same order: OpenBLAS runs some of these
# products about 3 times slower until a large product has run in the process (measured here:
# 11 GFLOP/s for the first layer's product in a fresh process, 35 after one 1024² product),
# and comparing against that would flatter Swift. The MLP runs are single, long runs.
# OPENBLAS_CORETYPE, if set in the environment, is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
epochs=${EPOCHS:-5}
rounds=${ROUNDS:-60}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
touch "$out/swift" "$out/numpy" "$out/pairs"

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
    python3 Benchmarks/gemm_pairs.py "$bench" "$rounds" "$out/swift" "$out/numpy" "$out/pairs"
fi
if [[ $what == all || $what == mlp ]]; then
    for threads in 1 2; do
        run_pair mlp "$threads" --sizes 784,256,128,10 --activation relu --init he --batch 128 --lr 0.1 --epochs "$epochs"
    done
    run_pair mlp 1 --sizes 784,50,10 --activation sigmoid --init normal:0.01 --batch 100 --lr 0.1 --epochs "$epochs"
    run_pair mlp 1 --sizes 784,256,128,10 --activation tanh --init he --batch 128 --lr 0.1 --epochs "$epochs"
fi
if [[ $what == all || $what == sqrt ]]; then
    "$bench" sqrt
fi

echo
echo "ratios Swift / numpy (higher is faster for Swift)"
echo "  GEMM: median of the paired samples' ratios, spread = their quartiles"
echo "  MLP: single runs, spread = min/max of Swift over max/min of numpy"
python3 - "$out/swift" "$out/numpy" "$out/pairs" <<'PY'
import re, statistics, sys
pattern = re.compile(r"^(.*): median ([0-9.]+) (\S+) \(min ([0-9.]+), max ([0-9.]+), n=(\d+)\)")
def read(path):
    rows = {}
    for line in open(path):
        m = pattern.match(line.strip())
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(4)), float(m.group(5)), m.group(3))
    return rows
swift, numpy = read(sys.argv[1]), read(sys.argv[2])
pairs = {}
for line in open(sys.argv[3]):
    name, values = line.rsplit(":", 1)
    pairs[name] = sorted(float(v) for v in values.split())
for name, (median, low, high, unit) in swift.items():
    if name not in numpy:
        continue
    n_median, n_low, n_high, _ = numpy[name]
    if name in pairs:
        ratios = pairs[name]
        q1, q2, q3 = statistics.quantiles(ratios, n=4)
        print(f"{name}: {q2:.2f}x  (quartiles {q1:.2f}-{q3:.2f} of {len(ratios)} pairs; "
              f"Swift {median:g} vs numpy {n_median:g} {unit})")
    else:
        print(f"{name}: {median / n_median:.2f}x  (spread {low / n_high:.2f}-{high / n_low:.2f}; "
              f"Swift {median:g} vs numpy {n_median:g} {unit})")
PY
