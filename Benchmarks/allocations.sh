#!/usr/bin/env bash
# Heap allocations per warm training step: bench mlp (784-256-128-10, batch 128, 469 steps per
# epoch) under a malloc counter, run for 1 and for 3 epochs; the difference over the 938 extra
# steps is what a warm step allocates. Linux with glibc and gcc.
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
if [ -n "${MAXIMUM:-}" ]; then
    python3 -c "import sys; sys.exit(0 if float('$per_step') <= float('$MAXIMUM') else 1)" \
        || { echo "more than $MAXIMUM allocations per step"; exit 1; }
fi
