#!/usr/bin/env python3
"""Two builds of `bench` (or one build with two environments) compared product by product, their
samples taken in turns, so the host's drift cancels: the median ratio B/A of neighbouring
samples per shape, with its quartiles.

  python3 Benchmarks/gemm_ab.py OLD_BENCH NEW_BENCH [--keys fwd1,dW,square] [--rounds 40]
  python3 Benchmarks/gemm_ab.py BENCH BENCH --env-a CK_X=1 --env-b CK_X=2

Build the old one from a worktree: git worktree add /tmp/old COMMIT && (cd /tmp/old && swift build
-c release --product bench). The keys are those of `bench gemm --serve`.
"""
import argparse, os, statistics, subprocess


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--keys", default="fwd1,fwd2,out,dW,dX,square")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--env-a", default="")
    parser.add_argument("--env-b", default="")
    args = parser.parse_args()
    processes = []
    for binary, extra in [(args.a, args.env_a), (args.b, args.env_b)]:
        env = dict(os.environ, **dict(item.split("=", 1) for item in extra.split(",") if item))
        process = subprocess.Popen([binary, "gemm", "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert process.stdout.readline().strip() == "ready"
        processes.append(process)

    def sample(process, key):
        process.stdin.write(key + "\n")
        process.stdin.flush()
        return float(process.stdout.readline())

    for key in args.keys.split(","):
        for process in processes:  # warm up
            sample(process, key)
            sample(process, key)
        a, b, ratios = [], [], []
        for _ in range(args.rounds):
            x, y = sample(processes[0], key), sample(processes[1], key)
            a.append(x)
            b.append(y)
            ratios.append(y / x)
        q = statistics.quantiles(ratios, n=4)
        print(f"{key}: B/A {statistics.median(ratios):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f} of {args.rounds}); "
              f"A {statistics.median(a):.1f}, B {statistics.median(b):.1f} GFLOP/s")
    for process in processes:
        process.stdin.close()
        process.wait()


if __name__ == "__main__":
    main()
