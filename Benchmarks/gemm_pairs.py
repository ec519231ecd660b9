#!/usr/bin/env python3
"""Interleaved GEMM samples of Swift (`bench gemm --serve`) and numpy (`numpy_reference.py gemm
--serve`), for compare.sh.

  gemm_pairs.py BENCH ROUNDS SWIFT_OUT NUMPY_OUT PAIRS_OUT

The host's speed drifts by tens of percent within seconds to minutes, so separate runs of the
two programs compare different machines. Here both programs stay alive, every shape is warmed
up in both, and then they take turns one sample (~20 ms) at a time, Swift first in every other
round; each pair of neighbouring samples gives one ratio. At 2 threads a pause follows each
sample, because OpenBLAS's idle workers spin for a while after a product and would slow down
the other program's next sample.

Writes each side's figures in bench's line format (`name: median X unit (min A, max B, n=N)`)
to SWIFT_OUT and NUMPY_OUT, and the paired ratios (`name: r1 r2 ...`) to PAIRS_OUT.
"""
import os
import statistics
import subprocess
import sys
import time

# The keys and names of bench's GemmBenchmark.swift and numpy_reference.py, in their order.
SHAPES = [
    ("fwd1", "gemm 128x784*784x256"),
    ("fwd2", "gemm 128x256*256x128"),
    ("out", "gemm 128x128*128x10"),
    ("dW", "gemm dW 784x128*128x256"),
    ("dX", "gemm dX 128x256*256x784"),
    ("square", "gemm 1024x1024*1024x1024"),
]
PAUSE_AFTER_SAMPLE = {1: 0.0, 2: 0.25}  # seconds, by thread count


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


def main():
    bench, rounds, swift_out, numpy_out, pairs_out = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(swift_out, "a") as swift_file, open(numpy_out, "a") as numpy_file, open(pairs_out, "a") as pairs_file:
        for threads in (1, 2):
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
            swift = Server([bench, "gemm", "--threads", str(threads), "--serve"], env)
            numpy = Server([sys.executable, os.path.join(here, "numpy_reference.py"), "gemm",
                            "--threads", str(threads), "--serve"], env)
            samples = {key: ([], []) for key, _ in SHAPES}
            for round_index in range(rounds):
                for key, _ in SHAPES:
                    order = [(0, swift), (1, numpy)] if round_index % 2 == 0 else [(1, numpy), (0, swift)]
                    for side, server in order:
                        samples[key][side].append(server.sample(key))
                        time.sleep(PAUSE_AFTER_SAMPLE[threads])
            swift.close()
            numpy.close()
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
