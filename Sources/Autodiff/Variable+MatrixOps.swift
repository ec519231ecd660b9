/// The matrix product, as numpy's `matmul`: `[m, k] × [k, n] → [m, n]`; a vector on the left
/// is a row (`[k] × [k, n] → [n]`), on the right a column (`[m, k] × [k] → [m]`), two vectors
/// give their dot product; rank-3 operands are batches of matrices, `[B, m, k] × [B, k, n] →
/// [B, m, n]`, where a batch of 1 or a plain matrix is shared by every batch (broadcast).
/// ∂/∂A = G·Bᵀ, ∂/∂B = Aᵀ·G (summed over the batches an operand was shared by).
@inlinable
public func matmul<S>(_ a: Variable<S>, _ b: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) {
    let (ra, rb) = (a.shape.count, b.shape.count)
    if ra == 2 && rb == 2 { return matrixProduct(a, b) }
    if ra == 1 && rb == 1 {
        return matrixProduct(a.reshaped(to: [1, -1]), b.reshaped(to: [-1, 1])).reshaped(to: [])
    }
    if ra == 1 && rb == 2 { return matrixProduct(a.reshaped(to: [1, -1]), b).reshaped(to: [-1]) }
    if ra == 2 && rb == 1 { return matrixProduct(a, b.reshaped(to: [-1, 1])).reshaped(to: [-1]) }
    Failure.check((ra == 3 || ra == 2) && (rb == 3 || rb == 2),
                  "matmul: \(ShapeMath.describe(a.shape)) × \(ShapeMath.describe(b.shape)): operands must have rank 1, 2 or 3")
    if ra == 3 && rb == 2 {
        // One product of all the batch's rows.
        let s = a.shape
        Failure.check(s[2] == b.shape[0], "matmul: \(ShapeMath.describe(s)) × \(ShapeMath.describe(b.shape)): inner dimensions differ")
        return matrixProduct(a.reshaped(to: [s[0] * s[1], s[2]]), b).reshaped(to: [s[0], s[1], b.shape[1]])
    }
    return batchedProduct(a, b)
} }

/// Batches of matrix products; a batch of 1 (or a matrix) is shared by all.
@inlinable
func batchedProduct<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let (sa, sb) = (a.shape, b.shape)
    let (ba, m, k) = sa.count == 3 ? (sa[0], sa[1], sa[2]) : (1, sa[0], sa[1])
    let (bb, k2, n) = sb.count == 3 ? (sb[0], sb[1], sb[2]) : (1, sb[0], sb[1])
    Failure.check(k == k2 && (ba == bb || ba == 1 || bb == 1),
                  "matmul: \(ShapeMath.describe(sa)) × \(ShapeMath.describe(sb)): " + (k != k2 ? "inner dimensions differ" : "batch sizes differ"))
    let batch = Swift.max(ba, bb)
    return a.tape.record("matmul", shape: [batch, m, n], a, b, kernel: BatchedProductForward.self, pullback: { ctx in
        let g = ctx.output.gradient.unsafelyUnwrapped
        for i in 0..<batch {
            let (ia, ib) = ((ba == 1 ? 0 : i) * m * k, (bb == 1 ? 0 : i) * k * n)
            let gi = g + i * m * n
            if let ga = ctx.a.gradient {
                MatrixKernels.gemm(m: m, n: k, k: n, a: gi, rsa: n, csa: 1, b: ctx.b.value + ib, rsb: 1, csb: n,
                                   c: ga + ia, ldc: k, beta: 1, threads: ctx.matrixThreads)
            }
            if let gb = ctx.b.gradient {
                MatrixKernels.gemm(m: k, n: n, k: m, a: ctx.a.value + ia, rsa: 1, csa: k, b: gi, rsb: n, csb: 1,
                                   c: gb + ib, ldc: n, beta: 1, threads: ctx.matrixThreads)
            }
        }
    })
}

/// The product of two matrices, `[m, k] × [k, n] → [m, n]`. ∂/∂A = G·Bᵀ, ∂/∂B = Aᵀ·G.
@inlinable
func matrixProduct<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let (m, _, n) = MatrixKernels.checkedDimensions(a.shape, b.shape, op: "matmul")
    return a.tape.record("matmul", shape: [m, n], a, b, kernel: MatrixProductForward.self, pullback: { ctx in
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
public func linear<S>(_ x: Variable<S>, weight: Variable<S>, bias: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) {
    fusedLinear(x, weight: weight, bias: bias, activation: nil)
} }

/// An activation that ``linear(_:weight:bias:activation:file:line:)`` fuses with the affine map:
/// one whose derivative is a function of its output, so the op keeps only its output.
public enum FusedActivation: Sendable, CaseIterable {
    /// max(z, 0), NaN kept; derivative 1 where the output is positive, else 0.
    case relu
    /// 1/(1+e^-z); derivative y(1-y).
    case sigmoid
    /// tanh z; derivative 1 - y².
    case tanh
}

/// `activation(x·W + b)` as one op: the product, then the bias and the activation in one pass
/// over its result, with no tape entry for the pre-activation. Shapes as
/// ``linear(_:weight:bias:file:line:)``. The pullback forms G' = G ⊙ activation′(y) from the
/// output y once, then ∂x = G'·Wᵀ, ∂W = xᵀ·G', ∂b = Σ_rows G'.
@inlinable
public func linear<S>(
    _ x: Variable<S>, weight: Variable<S>, bias: Variable<S>, activation: FusedActivation,
    file: StaticString = #fileID, line: UInt = #line
) -> Variable<S> { x.at(file, line) {
    fusedLinear(x, weight: weight, bias: bias, activation: activation)
} }

/// `linear` with an optional fused activation: the one recording of both public forms.
@inlinable
func fusedLinear<S>(_ x: Variable<S>, weight: Variable<S>, bias: Variable<S>, activation: FusedActivation?) -> Variable<S> {
    // Shapes read in place and a pullback that captures nothing: a training step allocates nothing.
    let (m, _, n) = MatrixKernels.checkedDimensions(x.shapeBuffer("linear"), weight.shapeBuffer("linear"), op: "linear")
    let biasShape = bias.shapeBuffer("linear")
    if !((biasShape.count == 1 && biasShape[0] == n) || (biasShape.count == 2 && biasShape[0] == 1 && biasShape[1] == n)) {
        Failure.stop("linear: bias \(ShapeMath.describe(Array(biasShape))) for a weight \(ShapeMath.describe(weight.shape)): bias must be [\(n)]")
    }
    let name: StaticString
    switch activation {
    case nil: name = "linear"
    case .relu: name = "linear relu"
    case .sigmoid: name = "linear sigmoid"
    case .tanh: name = "linear tanh"
    }
    let code: Int = switch activation {
    case nil: 0
    case .relu: 1
    case .sigmoid: 2
    case .tanh: 3
    }
    return x.tape.record(name, rows: m, columns: n, x, weight, bias, auxInt: code, kernel: FusedLinearForward.self,
                         pullback: { ctx in
        let shape = ctx.output.shapeBuffer
        let (m, n) = (shape[0], shape[1])
        let k = ctx.a.count / Swift.max(m, 1)
        var g = ctx.output.gradient.unsafelyUnwrapped
        if ctx.auxInt > 0 {
            let activation: FusedActivation = ctx.auxInt == 1 ? .relu : ctx.auxInt == 2 ? .sigmoid : .tanh
            // G' from the output, once, for the two products and the bias.
            let y = ctx.output.value
            let masked = ctx.scratch(m * n)
            func mask<Rule: UnaryRule>(_: Rule.Type) {
                for i in 0..<(m * n) { masked[i] = g[i] * Rule.derivative(y[i], y[i], 0) }
            }
            switch activation {
            case .relu: mask(ReluRule.self)
            case .sigmoid: mask(SigmoidRule.self)
            case .tanh: mask(TanhRule.self)
            }
            g = masked
        }
        MatrixKernels.accumulateMatmulGradients(m: m, n: n, k: k, g: g, a: ctx.a, b: ctx.b, threads: ctx.matrixThreads)
        if let (gb, overwrite) = ctx.c.gradientToWrite {
            if overwrite { gb.update(repeating: 0, count: n) }
            for i in 0..<m {
                let row = g + i * n
                for j in 0..<n { gb[j] += row[j] }
            }
        }
    })
}

extension MatrixKernels {
    /// ∂A += G·Bᵀ and ∂B += Aᵀ·G for C = A·B, each only where a gradient is wanted, with the
    /// transposes expressed as strides (nothing is materialised). The first writer of a
    /// gradient overwrites it (beta 0): no zeroing pass, and C is not read back.
    @inlinable
    static func accumulateMatmulGradients<S>(
        m: Int, n: Int, k: Int, g: UnsafeMutablePointer<S>, a: TapeValue<S>, b: TapeValue<S>, threads: Int?
    ) {
        if let (ga, overwrite) = a.gradientToWrite {
            gemm(m: m, n: k, k: n, a: g, rsa: n, csa: 1, b: b.value, rsb: 1, csb: n, c: ga, ldc: k,
                 beta: overwrite ? 0 : 1, threads: threads)
        }
        if let (gb, overwrite) = b.gradientToWrite {
            gemm(m: k, n: n, k: m, a: a.value, rsa: 1, csa: k, b: g, rsb: n, csb: 1, c: gb, ldc: n,
                 beta: overwrite ? 0 : 1, threads: threads)
        }
    }
}

extension Variable {
    /// The transpose of a matrix. ∂/∂x = Gᵀ.
    @inlinable
    public func transposed(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        let s = shape
        Failure.check(s.count == 2, "transpose: \(ShapeMath.describe(s)) is not a matrix")
        let (m, n) = (s[0], s[1])
        return tape.record("transpose", shape: [n, m], self, kernel: TransposeForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let s = ctx.a.shape
            let (m, n) = (s[0], s[1])
            for i in 0..<m { for j in 0..<n { gx[i * n + j] += g[j * m + i] } }
        })
    } }
}
