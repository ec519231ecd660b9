#!/usr/bin/env python3
"""The same MLP as `bench mlp` and numpy_reference.py, trained with PyTorch (CPU) or JAX (jit).

  peers_reference.py torch|jax [--sizes 784,256,128,10] [--activation relu|sigmoid|tanh]
                               [--init he|normal:0.01] [--batch 128] [--lr 0.1] [--epochs 5]
                               [--threads N] [--data DIR]

Float32, plain SGD, shuffled minibatches of MNIST, softmax cross-entropy; one throughput sample
per epoch, printed as `bench` prints it: `name: median X samples/s (min A, max B, n=N)`.
For benchmarking only (pip install torch==2.13.0+cpu, pip install jax); never a dependency.
PyTorch: torch.set_num_threads(N). JAX: XLA's CPU threads follow the cores; set
XLA_FLAGS=--xla_cpu_multi_thread_eigen=false and taskset for one thread (peers.sh does).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_reference import add_mlp_arguments, initial_weights, load_mnist, report_mlp  # noqa: E402


def run_torch(args, sizes, data, rng):
    import torch
    torch.set_num_threads(args.threads)
    x, t, xt, tt = (torch.from_numpy(a) for a in data)
    params = []
    for w, b in initial_weights(sizes, args.init, rng):
        params += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[args.activation]

    def forward(h):
        for i in range(0, len(params), 2):
            h = torch.addmm(params[i + 1], h, params[i])
            if i < len(params) - 2:
                h = act(h)
        return h

    optimizer = torch.optim.SGD(params, lr=args.lr)
    n = x.shape[0]
    values = []
    for _ in range(args.epochs):
        order = torch.from_numpy(rng.permutation(n))
        start = time.perf_counter()
        for s in range(0, n, args.batch):
            idx = order[s:s + args.batch]
            loss = torch.nn.functional.cross_entropy(forward(x[idx]), t[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        values.append(n / (time.perf_counter() - start))
    with torch.no_grad():
        accuracy = (forward(xt).argmax(dim=1) == tt).float().mean().item()
    return values, accuracy


def run_jax(args, sizes, data, rng):
    import jax
    import jax.numpy as jnp
    x, t, xt, tt = data
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in initial_weights(sizes, args.init, rng)]
    act = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}[args.activation]

    def forward(params, h):
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = act(h)
        return h

    def loss(params, h, labels):
        logits = forward(params, h)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))

    @jax.jit
    def step(params, h, labels):
        grads = jax.grad(loss)(params, h, labels)
        return [(w - args.lr * gw, b - args.lr * gb) for (w, b), (gw, gb) in zip(params, grads)]

    n = x.shape[0]
    full = n // args.batch * args.batch  # the jit compiles one batch shape; the short last batch is left out
    x_device, t_device = jnp.asarray(x), jnp.asarray(t)
    params = step(params, x_device[:args.batch], t_device[:args.batch])  # compile outside the timing
    values = []
    for _ in range(args.epochs):
        order = jnp.asarray(rng.permutation(n))
        start = time.perf_counter()
        for s in range(0, full, args.batch):
            idx = order[s:s + args.batch]
            params = step(params, x_device[idx], t_device[idx])
        jax.block_until_ready(params)
        values.append(full / (time.perf_counter() - start))
    accuracy = float((forward(params, jnp.asarray(xt)).argmax(axis=1) == jnp.asarray(tt)).mean())
    return values, accuracy


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=["torch", "jax"])
    add_mlp_arguments(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(42)
    data = load_mnist(args.data)
    values, accuracy = (run_torch if args.engine == "torch" else run_jax)(args, sizes, data, rng)
    report_mlp(args, sizes, values, accuracy)


if __name__ == "__main__":
    main()
