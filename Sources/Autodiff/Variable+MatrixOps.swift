/// The matrix product `[m, k] × [k, n] → [m, n]`. ∂/∂A = G·Bᵀ, ∂/∂B = Aᵀ·G.
@inlinable
public func matmul<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let (m, k, n) = MatrixKernels.checkedDimensions(a.shape, b.shape, op: "matmul")
    return a.tape.record("matmul", shape: [m, n], a, b, forward: { ctx in
        MatrixKernels.gemm(m: m, n: n, k: k, a: ctx.a.value, rsa: k, csa: 1, b: ctx.b.value, rsb: n, csb: 1,
                           c: ctx.output.value, ldc: n, beta: 0, threads: ctx.matrixThreads)
    }, pullback: { ctx in
        let shape = ctx.output.shape
        let (m, n) = (shape[0], shape[1])
        let k = ctx.a.count / Swift.max(m, 1)
        MatrixKernels.accumulateMatmulGradients(
            m: m, n: n, k: k, g: ctx.output.gradient.unsafelyUnwrapped, a: ctx.a, b: ctx.b, threads: ctx.matrixThreads)
    })
}

/// The fused affine map `x·W + b`: `x` is `[batch, in]`, `W` is `[in, out]`, `b` is `[out]`;
/// the bias is folded into the product and one pullback yields ∂x = G·Wᵀ, ∂W = xᵀ·G and
/// ∂b = Σ_rows G.
@inlinable
public func linear<S>(_ x: Variable<S>, weight: Variable<S>, bias: Variable<S>) -> Variable<S> {
    let (m, k, n) = MatrixKernels.checkedDimensions(x.shape, weight.shape, op: "linear")
    let biasShape = bias.shape
    precondition(biasShape == [n] || biasShape == [1, n],
                 "linear: bias \(ShapeMath.describe(biasShape)) for a weight \(ShapeMath.describe(weight.shape)): bias must be [\(n)]")
    return x.tape.record("linear", shape: [m, n], x, weight, bias, forward: { ctx in
        let y = ctx.output.value
        let b = ctx.c.value
        for i in 0..<m { (y + i * n).update(from: b, count: n) }
        MatrixKernels.gemm(m: m, n: n, k: k, a: ctx.a.value, rsa: k, csa: 1, b: ctx.b.value, rsb: n, csb: 1,
                           c: y, ldc: n, beta: 1, threads: ctx.matrixThreads)
    }, pullback: { ctx in
        let shape = ctx.output.shape
        let (m, n) = (shape[0], shape[1])
        let k = ctx.a.count / Swift.max(m, 1)
        let g = ctx.output.gradient.unsafelyUnwrapped
        MatrixKernels.accumulateMatmulGradients(m: m, n: n, k: k, g: g, a: ctx.a, b: ctx.b, threads: ctx.matrixThreads)
        if let gb = ctx.c.gradient {
            for i in 0..<m {
                let row = g + i * n
                for j in 0..<n { gb[j] += row[j] }
            }
        }
    })
}

extension MatrixKernels {
    /// ∂A += G·Bᵀ and ∂B += Aᵀ·G for C = A·B, each only where a gradient is wanted, with the
    /// transposes expressed as strides (nothing is materialised).
    @inlinable
    static func accumulateMatmulGradients<S>(
        m: Int, n: Int, k: Int, g: UnsafeMutablePointer<S>, a: TapeValue<S>, b: TapeValue<S>, threads: Int?
    ) {
        if let ga = a.gradient {
            gemm(m: m, n: k, k: n, a: g, rsa: n, csa: 1, b: b.value, rsb: 1, csb: n, c: ga, ldc: k, beta: 1, threads: threads)
        }
        if let gb = b.gradient {
            gemm(m: k, n: n, k: m, a: a.value, rsa: 1, csa: k, b: g, rsb: n, csb: 1, c: gb, ldc: n, beta: 1, threads: threads)
        }
    }
}

extension Variable {
    /// The transpose of a matrix. ∂/∂x = Gᵀ.
    @inlinable
    public func transposed() -> Variable {
        let s = shape
        precondition(s.count == 2, "transpose: \(ShapeMath.describe(s)) is not a matrix")
        let (m, n) = (s[0], s[1])
        return tape.record("transpose", shape: [n, m], self, forward: { ctx in
            let x = ctx.a.value
            let y = ctx.output.value
            for i in 0..<m { for j in 0..<n { y[j * m + i] = x[i * n + j] } }
        }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let s = ctx.a.shape
            let (m, n) = (s[0], s[1])
            for i in 0..<m { for j in 0..<n { gx[i * n + j] += g[j * m + i] } }
        })
    }
}
