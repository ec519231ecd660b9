#!/usr/bin/env bash
# Lennard-Jones energy + forces: `bench forces` (the tape and a hand-written loop, alternated
# inside the program) and JAX jit(grad) of the same formula, alternated round by round
# (A B A B), with the ratio tape/JAX of each round and their median, min and max; the same for
# the energy compiled once and replayed (CompiledFunction).
# usage: Benchmarks/forces.sh [rounds (default 5)] [sizes (default 64,512)]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
sizes=${2:-64,512}
swift build -c release --product bench >/dev/null
python3 -c 'import jax' 2>/dev/null || { echo "forces.sh: needs jax (pip install jax)"; exit 2; }
grep -m1 "model name" /proc/cpuinfo; grep -m1 "cpu family" /proc/cpuinfo
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
    .build/release/bench forces --sizes "$sizes" --runs 11 >"$out/swift.$round"
    python3 Benchmarks/jax_forces.py --sizes "$sizes" --runs 11 >"$out/jax.$round"
done
python3 - "$out" "$rounds" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def medians(path):
    table = {}
    for line in open(path):
        m = re.match(r"forces N=(\d+) (\w+) (tape|loop|jax|compiled|tape/loop|compiled/loop): median ([\d.]+)", line)
        if m: table[(m[1], m[2], m[3])] = float(m[4])
    return table
swift = [medians(f"{out}/swift.{r}") for r in range(1, rounds + 1)]
jax = [medians(f"{out}/jax.{r}") for r in range(1, rounds + 1)]
for key in sorted({(k[0], k[1]) for k in swift[0]}, key=lambda k: (int(k[0]), k[1])):
    n, kind = key
    tape = [s[(n, kind, "tape")] for s in swift]
    loop = [s[(n, kind, "tape/loop")] for s in swift]
    vs_jax = [s[(n, kind, "tape")] / j[(n, kind, "jax")] for s, j in zip(swift, jax)]
    print(f"N={n} {kind}: tape {statistics.median(tape):.1f} µs, JAX {statistics.median([j[(n, kind, 'jax')] for j in jax]):.1f} µs; "
          f"tape/JAX {statistics.median(vs_jax):.2f}× ({min(vs_jax):.2f}-{max(vs_jax):.2f}), "
          f"tape/loop {statistics.median(loop):.2f}× ({min(loop):.2f}-{max(loop):.2f}), {rounds} rounds")
    compiled = [s[(n, kind, "compiled")] / j[(n, kind, "jax")] for s, j in zip(swift, jax)]
    compiled_loop = [s[(n, kind, "compiled/loop")] for s in swift]
    print(f"N={n} {kind}: compiled {statistics.median([s[(n, kind, 'compiled')] for s in swift]):.1f} µs; "
          f"compiled/JAX {statistics.median(compiled):.2f}× ({min(compiled):.2f}-{max(compiled):.2f}), "
          f"compiled/loop {statistics.median(compiled_loop):.2f}× ({min(compiled_loop):.2f}-{max(compiled_loop):.2f})")
PY
