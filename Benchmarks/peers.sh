#!/usr/bin/env bash
# The MLP in Swift (bench mlp), numpy twice — `careful`, the careful reference the speed goals
# are set against (../shared/bench/numpy_mlp.py: np.maximum ReLU, in-place updates), and
# `tutorial`, the tutorials' layer classes transcribed literally (Benchmarks/numpy_reference.py,
# masked-assignment ReLU and copies, about 1.7× slower) — PyTorch (CPU) and JAX (jit),
# alternated program by program, round by round (A B C D A B C D …), on the same data,
# sizes, batch and learning rate; prints every program's samples/s per round and the ratios
# Swift/other with their spread (median, min-max over the rounds). PyTorch and JAX are run
# when they are installed (pip install torch==2.13.0+cpu jax; benchmarking only).
#
#   Benchmarks/peers.sh               3 rounds, 3 epochs per run (~5 minutes)
#   ROUNDS=5 EPOCHS=2 Benchmarks/peers.sh
#   SHARED=/path/to/shared Benchmarks/peers.sh   (where bench/numpy_mlp.py is; default ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
epochs=${EPOCHS:-3}
swift build -c release --product bench >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
shared=${SHARED:-../shared}
peers=(swift)
[ -f "$shared/bench/numpy_mlp.py" ] && peers+=(careful)
peers+=(tutorial)
python3 -c 'import torch' 2>/dev/null && peers+=(torch)
python3 -c 'import jax' 2>/dev/null && peers+=(jax)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; programs: ${peers[*]}"
echo "instruction sets: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512vl|avx512dq|avx512bw)$' | xargs); Swift kernels: $(.build/release/bench peak | sed -n 's/.*kernels in use \([a-z0-9]*\).*/\1/p')"

# One run: program, threads, flags → its median samples/s.
run() {
    local program=$1 threads=$2
    shift 2
    case $program in
    swift) .build/release/bench mlp --threads "$threads" "$@" --epochs "$epochs" ;;
    careful)
        # The careful reference takes the sizes, activation, batch and learning rate (its own init).
        local flags=() f
        while [ $# -gt 0 ]; do
            f=$1; shift
            case $f in
            --sizes|--batch|--lr) flags+=("$f" "$1"); shift ;;
            --activation) flags+=(--act "$1"); shift ;;
            --init) shift ;;
            esac
        done
        OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads python3 "$shared/bench/numpy_mlp.py" --data mnistidx "${flags[@]}" --epochs "$epochs" ;;
    tutorial) OPENBLAS_NUM_THREADS=$threads python3 Benchmarks/numpy_reference.py mlp --threads "$threads" "$@" --epochs "$epochs" ;;
    torch) python3 Benchmarks/peers_reference.py torch --threads "$threads" "$@" --epochs "$epochs" ;;
    jax)
        if [ "$threads" = 1 ]; then
            XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 python3 Benchmarks/peers_reference.py jax --threads 1 "$@" --epochs "$epochs"
        else
            python3 Benchmarks/peers_reference.py jax --threads "$threads" "$@" --epochs "$epochs"
        fi ;;
    esac 2>/dev/null | awk '/samples\/s/ && !done { sub(/.*median /, ""); sub(/ samples.*/, ""); print; done = 1 }'
    # (awk reads to the end: grep -m1 would close the pipe and a program's last line would die of SIGPIPE)
}

configs=(
    "relu-1|1|--sizes 784,256,128,10 --activation relu --init he --batch 128 --lr 0.1"
    "relu-2|2|--sizes 784,256,128,10 --activation relu --init he --batch 128 --lr 0.1"
    "twolayer-1|1|--sizes 784,50,10 --activation sigmoid --init normal:0.01 --batch 100 --lr 0.1"
)
for ((r = 1; r <= rounds; r++)); do
    for config in "${configs[@]}"; do
        IFS='|' read -r name threads flags <<<"$config"
        for program in "${peers[@]}"; do
            # shellcheck disable=SC2086
            value=$(run "$program" "$threads" $flags)
            echo "round $r $name $program $value" | tee -a "$out/results"
        done
    done
done
python3 - "$out/results" <<'PY'
import collections, statistics, sys
table = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    _, r, name, program, value = line.split()
    table[(name, int(r))][program] = float(value)
print("\nratios Swift / other (higher is faster for Swift): median (min-max over the rounds)")
for name in dict.fromkeys(n for n, _ in table):
    rounds = [v for (n, _), v in table.items() if n == name]
    swift = [v["swift"] for v in rounds]
    text = f"  {name:11s} swift {statistics.median(swift):8.0f} samples/s"
    for other in [p for p in rounds[0] if p != "swift"]:
        ratios = [v["swift"] / v[other] for v in rounds if other in v]
        text += f" | /{other} {statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f})"
    print(text)
PY
