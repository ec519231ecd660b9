#!/usr/bin/env python3
"""The numpy reference the Swift benchmarks are compared with.

  numpy_reference.py gemm [--threads N] [--runs N] [--serve]
  numpy_reference.py mlp  [--sizes 784,256,128,10] [--activation relu|sigmoid|tanh] [--init he|normal:0.01]
                          [--batch 128] [--lr 0.1] [--epochs 5] [--threads N] [--data DIR]

The MLP is written the way the tutorials write it: layer objects with a hand-written forward
and backward (Affine, ReLU/Sigmoid, SoftmaxWithLoss), plain SGD, shuffled minibatches.
Output lines have the same names and format as `bench`: `name: median X unit (min A, max B, n=N)`.
Threads: set OPENBLAS_NUM_THREADS (compare.sh does) before numpy is imported.
"""
import argparse
import gzip
import os
import statistics
import sys
import time

import numpy as np


def line(name, unit, values, digits=1):
    f = f"{{:.{digits}f}}"
    return (f"{name}: median {f.format(statistics.median(values))} {unit} "
            f"(min {f.format(min(values))}, max {f.format(max(values))}, n={len(values)})")


def gemm(args):
    # (key for --serve, name, m, n, k, A transposed, B transposed), as in bench's GemmBenchmark.swift.
    shapes = [
        ("fwd1", "gemm 128x784*784x256", 128, 256, 784, False, False),
        ("fwd2", "gemm 128x256*256x128", 128, 128, 256, False, False),
        ("out", "gemm 128x128*128x10", 128, 10, 128, False, False),
        ("dW", "gemm dW 784x128*128x256", 784, 256, 128, True, False),
        ("dX", "gemm dX 128x256*256x784", 128, 784, 256, False, True),
        ("square", "gemm 1024x1024*1024x1024", 1024, 1024, 1024, False, False),
    ]
    rng = np.random.default_rng(7)
    samplers = {}
    for key, name, m, n, k, ta, tb in shapes:
        # Transposed operands are views, as in the backward pass (x.T @ dout, dout @ W.T).
        a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
        a = a.T if ta else a
        b = b.T if tb else b
        out = np.empty((m, n), dtype=np.float32)
        flops = 2.0 * m * n * k
        repetitions = max(1, int(2e-2 * 50e9 / flops))

        def sample(a=a, b=b, out=out, flops=flops, repetitions=repetitions):
            start = time.perf_counter()
            for _ in range(repetitions):
                np.matmul(a, b, out=out)
            return flops * repetitions / (time.perf_counter() - start) / 1e9

        sample()  # warm up, in the fixed order of the list
        samplers[key] = (name, sample)
    if args.serve:
        # One sample per shape key read from standard input, one number per line (compare.sh).
        print("ready", flush=True)
        for request in sys.stdin:
            key = request.strip()
            if key not in samplers:
                sys.exit(f"unknown shape {key}; the keys are " + ", ".join(samplers))
            print(f"{samplers[key][1]():.3f}", flush=True)
        return
    for name, sample in samplers.values():
        values = [sample() for _ in range(args.runs)]
        print(line(f"{name} threads={args.threads}", "GFLOP/s", values))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class Affine:
    def __init__(self, w, b):
        self.W, self.b = w, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out * self.out)


class SoftmaxWithLoss:
    def forward(self, x, t):
        x = x - x.max(axis=1, keepdims=True)
        e = np.exp(x)
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        n = x.shape[0]
        return -np.log(self.y[np.arange(n), t] + 1e-7).sum() / n

    def backward(self):
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx / n


def load_mnist(data):
    """Training and test images (as float32 in [0, 1]) and labels."""
    x_train = read_idx(f"{data}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    t_train = read_idx(f"{data}/train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test = read_idx(f"{data}/t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    t_test = read_idx(f"{data}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return x_train, t_train, x_test, t_test


def initial_weights(sizes, init, rng):
    """(W, b) per layer: W from N(0, scale²) (He: 2/fan_in; normal:S: S; normal: 0.01), b zero."""
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        if init == "he":
            scale = np.sqrt(2.0 / fan_in)
        elif init.startswith("normal"):
            scale = float(init.split(":")[1]) if ":" in init else 0.01
        else:
            sys.exit(f"unknown --init {init}")
        weights.append(((scale * rng.standard_normal((fan_in, fan_out))).astype(np.float32), np.zeros(fan_out, dtype=np.float32)))
    return weights


def add_mlp_arguments(parser):
    """The MLP flags this script and peers_reference.py share (as `bench mlp` spells them)."""
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", default="784,256,128,10")
    parser.add_argument("--activation", default="relu", choices=["relu", "sigmoid", "tanh"])
    parser.add_argument("--init", default="he")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=5)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--data", default=os.path.join(here, "..", "Data", "mnist"))


def report_mlp(args, sizes, values, accuracy):
    """The throughput and accuracy lines, as `bench mlp` prints them."""
    name = f"mlp {'-'.join(map(str, sizes))} {args.activation} batch={args.batch} threads={args.threads}"
    print(line(f"{name} train", "samples/s", values, digits=0))
    print(f"{name} test accuracy: {accuracy * 100:.2f} % after {args.epochs} epochs")


def mlp(args):
    sizes = [int(s) for s in args.sizes.split(",")]
    x_train, t_train, x_test, t_test = load_mnist(args.data)
    rng = np.random.default_rng(42)
    layers = []
    affines = []
    for i, (w, b) in enumerate(initial_weights(sizes, args.init, rng)):
        affine = Affine(w, b)
        layers.append(affine)
        affines.append(affine)
        if i < len(sizes) - 2:
            layers.append({"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}[args.activation]())
    loss_layer = SoftmaxWithLoss()
    lr = np.float32(args.lr)
    n = x_train.shape[0]
    # OpenBLAS runs some products ~3x slower until a large product has run in the process (see
    # compare.sh); one 1024² product first, so numpy is measured at its best.
    big = np.ones((1024, 1024), dtype=np.float32)
    np.matmul(big, big)
    values = []
    for _ in range(args.epochs):
        order = rng.permutation(n)
        start = time.perf_counter()
        for s in range(0, n, args.batch):
            idx = order[s:s + args.batch]
            h = x_train[idx]
            for layer in layers:
                h = layer.forward(h)
            loss_layer.forward(h, t_train[idx])
            d = loss_layer.backward()
            for layer in reversed(layers):
                d = layer.backward(d)
            for affine in affines:
                affine.W -= lr * affine.dW
                affine.b -= lr * affine.db
        values.append(n / (time.perf_counter() - start))
    h = x_test
    for layer in layers:
        h = layer.forward(h)
    accuracy = (h.argmax(axis=1) == t_test).mean()
    report_mlp(args, sizes, values, accuracy)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["gemm", "mlp"])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--serve", action="store_true", help="gemm: answer shape keys from stdin with one sample each")
    add_mlp_arguments(parser)
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        sys.exit("set OPENBLAS_NUM_THREADS to --threads before running (compare.sh does)")
    gemm(args) if args.mode == "gemm" else mlp(args)


if __name__ == "__main__":
    main()
