#!/usr/bin/env bash
# The Distributed package's checks, from .ci/run: MPI installed when missing, the package built,
# its tests under 1, 2 and 3 ranks (both ways of summing), and the example's promises: the bits
# of one process with as many threads, resuming with another rank count, a killed rank, ranks
# started with other settings.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c; then
    apt-get update -qq && apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null
fi
swift build -c release
swift build --build-tests
mpi=(mpirun --allow-run-as-root --oversubscribe)
tests=(.build/debug/AutodiffDistributedPackageTests.xctest --testing-library swift-testing --no-parallel)
run_tests() {
    local out
    out=$("${mpi[@]}" "$@" "${tests[@]}" 2>&1) || { echo "$out"; echo "tests failed: mpirun $*"; exit 1; }
    echo "mpirun $*: $(grep -c "Test run with .* passed" <<<"$out") ranks passed"
}
for ranks in 1 2 3; do run_tests -np $ranks; done
AUTODIFF_SUM=messages run_tests -x AUTODIFF_SUM -np 3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
single=../.build/release/example-mnist
example=.build/release/example-mnist-distributed
[ -x $single ] || (cd .. && swift build -c release --product example-mnist)
same() { cmp -s "$1" "$2" || { echo "$3: the checkpoints differ"; exit 1; }; }
flags=(--hidden 16 --schedule constant --data ../Data/mnist)

# 2 ranks × 1 thread = one process with 2 threads splitting the batch, byte for byte.
$single "${flags[@]}" --epochs 1 --threads 2 --parallel batch --save "$work/threads.safetensors" --out "$work/t" >/dev/null
"${mpi[@]}" -np 2 $example "${flags[@]}" --epochs 1 --save "$work/ranks.safetensors" --out "$work/r" | grep "test accuracy"
same "$work/threads.safetensors" "$work/ranks.safetensors" "2 ranks against 2 threads"
echo "2 ranks × 1 thread: the checkpoint of example-mnist --threads 2 --parallel batch, byte for byte"

# Resuming with another rank count: 2 ranks for epoch 1, then 1 rank × 2 threads (the same parts,
# added in the same order) for epoch 2, is 2 ranks for 2 epochs.
"${mpi[@]}" -np 2 $example "${flags[@]}" --epochs 2 --save "$work/two.safetensors" --out "$work/r2" >/dev/null
"${mpi[@]}" -np 1 $example "${flags[@]}" --epochs 1 --threads 2 --load "$work/ranks.safetensors" --save "$work/resumed.safetensors" --out "$work/r3" | grep resuming
same "$work/two.safetensors" "$work/resumed.safetensors" "resumed with 1 rank × 2 threads"
echo "resumed on 1 rank × 2 threads: the checkpoint of 2 ranks × 2 epochs, byte for byte"

# A killed rank ends the job within seconds, naming it; the last epoch's checkpoint resumes.
"${mpi[@]}" -np 2 $example "${flags[@]}" --hidden 64 --epochs 50 --save "$work/killed.safetensors" --out "$work/k" >"$work/killed.txt" 2>&1 &
job=$!
for _ in $(seq 1 600); do [ -s "$work/killed.safetensors" ] && break; sleep 0.1; done
[ -s "$work/killed.safetensors" ] || { echo "no checkpoint after 60 s"; cat "$work/killed.txt"; exit 1; }
victim=""
for pid in $(pgrep -f "example-mnist-distributed.*killed.safetensors"); do
    if tr '\0' '\n' </proc/$pid/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then victim=$pid; fi
done
[ -n "$victim" ] || { echo "rank 1 not found"; exit 1; }
start=$(date +%s.%N)
kill -9 "$victim"
status=0
timeout 30 tail --pid=$job -f /dev/null || { echo "the job still runs 30 s after rank 1 was killed"; exit 1; }
wait $job || status=$?
elapsed=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")
[ "$status" != 0 ] || { echo "the job ended with status 0 after a rank was killed"; exit 1; }
grep -q "rank 1" "$work/killed.txt" || { echo "mpirun did not name the killed rank:"; cat "$work/killed.txt"; exit 1; }
python3 -c "import sys; assert float(sys.argv[1]) <= 10, sys.argv[1]" "$elapsed" || { echo "the job took ${elapsed} s to end"; exit 1; }
echo "killed rank 1: the job ended in ${elapsed} s (exit $status): $(grep -m1 -o 'process rank 1[^(]*([^)]*)' "$work/killed.txt" || true)"
"${mpi[@]}" -np 2 $example "${flags[@]}" --hidden 64 --epochs 1 --load "$work/killed.safetensors" --save "$work/after.safetensors" --out "$work/a" | grep -E "resuming|test accuracy"

# Ranks started with other settings are refused at start, naming the rank.
status=0
"${mpi[@]}" -np 1 $example "${flags[@]}" --epochs 1 --out "$work/m" : -np 1 $example "${flags[@]}" --hidden 32 --epochs 1 --out "$work/m" \
    >"$work/mismatch.txt" 2>&1 || status=$?
[ "$status" != 0 ] && grep -q "rank 1 of 2 was started with other settings" "$work/mismatch.txt" \
    || { echo "mismatched ranks were not refused (exit $status)"; cat "$work/mismatch.txt"; exit 1; }
echo "mismatched settings: refused, naming rank 1"

# A file missing on one machine (here: one rank) ends the job at once, naming the rank, instead
# of leaving the others waiting for it.
status=0
timeout 60 "${mpi[@]}" -np 1 $example "${flags[@]}" --epochs 1 --out "$work/m" : -np 1 $example --hidden 16 --schedule constant --data "$work/nowhere" --epochs 1 --out "$work/m" \
    >"$work/missing.txt" 2>&1 || status=$?
[ "$status" != 0 ] && [ "$status" != 124 ] && grep -q "rank 1 of 2: $work/nowhere/train-images" "$work/missing.txt" \
    || { echo "a rank without data did not end the job naming itself (exit $status)"; cat "$work/missing.txt"; exit 1; }
echo "data missing on rank 1: the job ended (exit $status), naming rank 1"

# Every `mpirun -np` command README.md prints, from the repository's root as a user runs it
# (not as root: Open MPI's variables stand in for that), with small settings. The hostfile
# command needs machines named node1 and node2 and is left out.
grep -o '^mpirun -np [^#]*' ../README.md | sed 's/ *$//' | while read -r command; do
    small=(--epochs 1 --hidden 16 --out "$work/readme" --save "$work/readme.safetensors")
    case $command in
    *bench-distributed*) small=(--rounds 1 --steps 5) ;;
    *--model\ cnn*) small=(--epochs 1 --out "$work/readme" --save "$work/readme.safetensors") ;;
    esac
    (cd .. && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
        $command "${small[@]}" </dev/null >"$work/readme.txt" 2>&1) || { echo "README command failed: $command"; tail -5 "$work/readme.txt"; exit 1; }
    echo "ok   $command  ($(grep -E 'test accuracy|train: median' "$work/readme.txt" | head -1))"
done
echo "Distributed passed"
