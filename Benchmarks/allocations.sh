#!/usr/bin/env bash
# Heap allocations per warm training step: bench mlp (784-256-128-10, batch 128, 469 steps per
# epoch) under a malloc counter, run for 1 and for 3 epochs; the difference over the 938 extra
# steps is what a warm step allocates. The same for a warm replay of a compiled function.
# Linux with glibc and gcc.
#
#   Benchmarks/allocations.sh              prints the figure
#   MAXIMUM=20 Benchmarks/allocations.sh   also fails (exit 1) above 20 per step
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product bench >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -shared -fPIC Benchmarks/allocations/count.c -o "$work/count.so"
count() { LD_PRELOAD="$work/count.so" .build/release/bench mlp --epochs "$1" 2>&1 >/dev/null | sed -n 's/^allocations: //p'; }
one=$(count 1)
three=$(count 3)
per_step=$(python3 -c "print('%.1f' % (($three - $one) / 938))")
echo "mlp 784-256-128-10 batch=128 threads=1: $per_step heap allocations per warm training step ($one in 1 epoch, $three in 3)"
# A warm replay of a compiled function (bench sqrt's replayed step): 1 against 100,001 steps.
steps() { LD_PRELOAD="$work/count.so" .build/release/bench sqrt --mode replayed --runs 1 --steps "$1" 2>&1 >/dev/null | sed -n 's/^allocations: //p'; }
few=$(steps 1)
many=$(steps 100001)
per_replay=$(python3 -c "print('%.1f' % max(0.0, ($many - $few) / 100000))")
echo "compiled (x·x - 2)² replayed with its gradient: $per_replay heap allocations per warm replay ($few for 1 step, $many for 100,001)"
if [ -n "${MAXIMUM:-}" ]; then
    python3 -c "import sys; sys.exit(0 if max(float('$per_step'), float('$per_replay')) <= float('$MAXIMUM') else 1)" \
        || { echo "more than $MAXIMUM allocations per step or per replay"; exit 1; }
fi
