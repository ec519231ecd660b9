#!/usr/bin/env python3
"""scipy's Newton-CG on the n-D Rosenbrock function from (-1.2, 1, -1.2, 1, …), for scale beside
example-rosenbrock's Newton-CG (benchmarking only: pip install scipy).

  python3 Benchmarks/scipy_rosenbrock.py [--dimension 100]
"""
import argparse

import numpy as np
import scipy.optimize as so

parser = argparse.ArgumentParser()
parser.add_argument("--dimension", type=int, default=100)
n = parser.parse_args().dimension
x0 = np.array([-1.2 if i % 2 == 0 else 1.0 for i in range(n)])
r = so.minimize(so.rosen, x0, method="Newton-CG", jac=so.rosen_der, hessp=so.rosen_hess_prod,
                options={"xtol": 1e-14, "maxiter": 5000})
print(f"scipy Newton-CG, {n}-D: {r.nit} iterations, {r.nhev} Hessian-vector products, "
      f"|grad f| {np.linalg.norm(so.rosen_der(r.x)):.3e}")
