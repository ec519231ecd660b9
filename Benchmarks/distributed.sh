#!/usr/bin/env bash
# Data-parallel scaling on this machine: bench-distributed with 1 rank and with 2 ranks (1 thread
# each), alternated round by round (1 2 1 2 …), for example-mnist's MLP and CNN; prints each
# round's medians and the ratio 2 ranks / 1 rank with its spread (median, min-max over rounds).
#
#   Benchmarks/distributed.sh            5 rounds (~2 minutes)
#   ROUNDS=9 Benchmarks/distributed.sh
#   AUTODIFF_SUM=messages Benchmarks/distributed.sh   (the sum by messages, as across machines)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
(cd Distributed && swift build -c release --product bench-distributed >/dev/null)
bench=Distributed/.build/release/bench-distributed
mpi=(mpirun --allow-run-as-root --oversubscribe -x AUTODIFF_SUM="${AUTODIFF_SUM:-shared}")
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(mpirun --version | head -1); sum: ${AUTODIFF_SUM:-shared memory}"
declare -A results
for round in $(seq 1 "$rounds"); do
    for ranks in 1 2; do
        while read -r line; do
            echo "round $round: $line"
            model=${line%% *}
            results[$model,$ranks]+="$(sed -n 's/.*median \([0-9.]*\) samples.*/\1/p' <<<"$line") "
        done < <("${mpi[@]}" -np $ranks $bench --rounds 5)
    done
done
for model in mlp cnn; do
    python3 - "$model" "${results[$model,1]}" "${results[$model,2]}" <<'PY'
import statistics, sys
model, one, two = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ratios = sorted(b / a for a, b in zip(one, two))
print(f"{model}: 1 rank median {statistics.median(one):.0f} samples/s, 2 ranks {statistics.median(two):.0f}; "
      f"2 ranks / 1 rank: median {statistics.median(ratios):.2f}x (min {ratios[0]:.2f}, max {ratios[-1]:.2f}, n={len(ratios)})")
PY
done
