#!/usr/bin/env python3
"""Interleaved GEMM samples of Swift (`bench gemm --serve`) and numpy (`numpy_reference.py gemm
--serve`), for compare.sh.

  gemm_pairs.py BENCH ROUNDS SWIFT_OUT NUMPY_OUT PAIRS_OUT

The host's speed drifts by tens of percent within seconds to minutes, so separate runs of the
two programs compare different machines. At 1 thread both programs stay alive, every shape is
warmed up in both, and then they take turns one sample (~20 ms) at a time, Swift first in every
other round; each pair of neighbouring samples gives one ratio. The processes are started
afresh 5 times over the rounds, because each launch's memory placement shifts its speed. At 2 threads an idle numpy
process keeps slowing the other program's 2-thread products down, so there the two run in turns,
one process at a time, and each round pairs the medians of 5 samples per shape.

Writes each side's figures in bench's line format (`name: median X unit (min A, max B, n=N)`)
to SWIFT_OUT and NUMPY_OUT, and the paired ratios (`name: r1 r2 ...`) to PAIRS_OUT.
"""
import os
import statistics
import subprocess
import sys

LAUNCHES = 5  # pairs of fresh processes at 1 thread

# The keys and names of bench's GemmBenchmark.swift and numpy_reference.py, in their order.
SHAPES = [
    ("fwd1", "gemm 128x784*784x256"),
    ("fwd2", "gemm 128x256*256x128"),
    ("out", "gemm 128x128*128x10"),
    ("dW", "gemm dW 784x128*128x256"),
    ("dX", "gemm dX 128x256*256x784"),
    ("square", "gemm 1024x1024*1024x1024"),
]


class Server:
    def __init__(self, command, env):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        if self.process.stdout.readline().strip() != "ready":
            sys.exit(f"{command[0]} did not start its GEMM server")

    def sample(self, key):
        self.process.stdin.write(key + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            sys.exit(f"GEMM server stopped while measuring {key}")
        return float(answer)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def line(name, values):
    return (f"{name}: median {statistics.median(values):.1f} GFLOP/s "
            f"(min {min(values):.1f}, max {max(values):.1f}, n={len(values)})")


def interleaved(swift, numpy, rounds):
    """One sample at a time from each live server, Swift first in every other round."""
    samples = {key: ([], []) for key, _ in SHAPES}
    for round_index in range(rounds):
        for key, _ in SHAPES:
            order = [(0, swift), (1, numpy)] if round_index % 2 == 0 else [(1, numpy), (0, swift)]
            for side, server in order:
                samples[key][side].append(server.sample(key))
    return samples


def in_turns(start_swift, start_numpy, rounds, per_round=5):
    """One program alive at a time: each round runs one, then the other (the order alternates),
    and pairs the medians of their `per_round` samples per shape."""
    samples = {key: ([], []) for key, _ in SHAPES}
    for round_index in range(rounds):
        order = [(0, start_swift), (1, start_numpy)] if round_index % 2 == 0 else [(1, start_numpy), (0, start_swift)]
        for side, start in order:
            server = start()
            for key, _ in SHAPES:
                samples[key][side].append(statistics.median(server.sample(key) for _ in range(per_round)))
            server.close()
    return samples


def main():
    bench, rounds, swift_out, numpy_out, pairs_out = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(swift_out, "a") as swift_file, open(numpy_out, "a") as numpy_file, open(pairs_out, "a") as pairs_file:
        for threads in (1, 2):
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
            start_swift = lambda: Server([bench, "gemm", "--threads", str(threads), "--serve"], env)
            start_numpy = lambda: Server([sys.executable, os.path.join(here, "numpy_reference.py"), "gemm",
                                          "--threads", str(threads), "--serve"], env)
            if threads == 1:
                # Fresh processes every few rounds: each launch lands on other physical pages,
                # and how they collide in the caches moves a product's speed by a few percent
                # for the life of a process, which no interleaving cancels.
                samples = {key: ([], []) for key, _ in SHAPES}
                for launch in range(LAUNCHES):
                    swift, numpy = start_swift(), start_numpy()
                    part = interleaved(swift, numpy, (rounds + LAUNCHES - 1) // LAUNCHES)
                    swift.close()
                    numpy.close()
                    for key in samples:
                        for side in (0, 1):
                            samples[key][side].extend(part[key][side])
            else:
                # An idle numpy process with two OpenBLAS threads slows the other program's
                # 2-thread products down (Swift's dX: ~70 → ~30 GFLOP/s beside it), so at 2
                # threads the two never run side by side.
                samples = in_turns(start_swift, start_numpy, max(3, rounds // 5))
            for key, name in SHAPES:
                ours, theirs = samples[key]
                label = f"{name} threads={threads}"
                for file, values in ((swift_file, ours), (numpy_file, theirs)):
                    print(line(label, values), file=file)
                print(line(label, ours), f"  numpy {statistics.median(theirs):.1f}")
                ratios = " ".join(f"{s / n:.4f}" for s, n in zip(ours, theirs))
                print(f"{label}: {ratios}", file=pairs_file)


if __name__ == "__main__":
    main()
