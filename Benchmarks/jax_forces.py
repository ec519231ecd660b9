"""The Lennard-Jones energy and forces of `bench forces` in JAX: the same formula (pairwise
differences by broadcasting, a mask for the diagonal, squared distances, integer powers, a sum),
the forces as minus jit(grad) of it, on the same jittered lattice. Prints lines in bench's format:
`forces N=64 Double jax: median X µs (min A, max B, n=N)`. Benchmarking only (pip install jax).

usage: python3 Benchmarks/jax_forces.py [--sizes 64,512] [--runs 21]
"""
import argparse
import os
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def lattice(n):
    """Particles on a cubic lattice of spacing 1.2, jittered by up to ±0.05 (seeded)."""
    rng = np.random.default_rng(7)
    side = int(np.ceil(n ** (1 / 3))) + 1
    cells = np.array([(c % side, (c // side) % side, c // (side * side)) for c in range(n)], dtype=np.float64)
    return 1.2 * cells + 0.1 * (rng.random((n, 3)) - 0.5)


def energy(x, eye, off_diagonal):
    difference = x[:, None, :] - x[None, :, :]
    squared = jnp.sum(difference * difference, axis=-1) + eye
    inverse6 = squared ** -3
    return jnp.sum((inverse6 ** 2 - inverse6) * off_diagonal) * 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="64,512")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    value_and_forces = jax.jit(jax.value_and_grad(energy))
    for n in [int(s) for s in args.sizes.split(",")]:
        for name, dtype in (("Double", jnp.float64), ("Float", jnp.float32)):
            x = jnp.asarray(lattice(n), dtype=dtype)
            eye = jnp.eye(n, dtype=dtype)
            off = 1 - eye
            e, g = value_and_forces(x, eye, off)
            g.block_until_ready()
            start = time.perf_counter()
            value_and_forces(x, eye, off)[1].block_until_ready()
            once = time.perf_counter() - start
            repeats = max(1, int(0.02 / max(once, 1e-7)))
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter()
                for _ in range(repeats):
                    e, g = value_and_forces(x, eye, off)
                g.block_until_ready()
                samples.append((time.perf_counter() - start) / repeats * 1e6)
            samples.sort()
            print(f"forces N={n} {name} jax: median {samples[len(samples) // 2]:.1f} µs "
                  f"(min {samples[0]:.1f}, max {samples[-1]:.1f}, n={len(samples)})", flush=True)


if __name__ == "__main__":
    main()
