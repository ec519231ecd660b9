#!/usr/bin/env bash
# Two builds of `bench` compared on the MLP, run in turns (A B A B …) so the host's drift falls
# on both alike: every round's samples/s and the ratio B/A, then the median and range of the
# ratios. This is how the README's build-against-build MLP figures were taken.
#
#   Benchmarks/mlp_ab.sh OLD_BENCH NEW_BENCH [bench mlp flags]
#   ROUNDS=9 Benchmarks/mlp_ab.sh /tmp/old/.build/release/bench .build/release/bench --threads 2
#
# Build the old one from a worktree: git worktree add /tmp/old COMMIT && (cd /tmp/old && swift
# build -c release --product bench). Flags default to `--epochs 2`.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0"; exit 2; }
a=$1 b=$2
shift 2
[ $# -gt 0 ] || set -- --epochs 2
rounds=${ROUNDS:-5}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs); bench mlp $*"
run() {
    local output value
    output=$("$@" 2>&1) || { echo "$output" >&2; exit 2; }
    value=$(awk '/train:/ && !done { sub(/.*median /, ""); sub(/ samples.*/, ""); print; done = 1 }' <<<"$output")
    [ -n "$value" ] || { echo "$output" >&2; exit 2; }
    echo "$value"
}
ratios=()
for ((r = 1; r <= rounds; r++)); do
    x=$(run "$a" mlp "$@")
    y=$(run "$b" mlp "$@")
    ratio=$(python3 -c "print(f'{$y / $x:.3f}')")
    ratios+=("$ratio")
    echo "round $r: A $x, B $y samples/s, B/A $ratio"
done
python3 -c 'import statistics, sys; r = list(map(float, sys.argv[1:])); print(f"B/A: median {statistics.median(r):.3f} (min {min(r):.3f}, max {max(r):.3f}) over {len(r)} rounds")' "${ratios[@]}"
