/// Softmax along one axis of a buffer viewed as [outer, length, inner], stable for any
/// magnitude (the maximum is subtracted before exponentiating).
@usableFromInline
enum SoftmaxKernels {
    /// y = softmax(x) (or log-softmax when `logarithm`) along the middle axis.
    @inlinable
    static func softmax<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, outer: Int, length: Int, inner: Int, logarithm: Bool
    ) {
        for o in 0..<outer {
            for j in 0..<inner {
                let base = o * length * inner + j
                var maximum = -S.infinity
                for k in 0..<length { maximum = Swift.max(maximum, x[base + k * inner]) }
                for k in 0..<length { y[base + k * inner] = S.exp(x[base + k * inner] - maximum) }
                let total = Summation.sum(y + base, count: length, stride: inner)
                if logarithm {
                    // (x - max) - log Σ, not x - (max + log Σ): at logits of 1e16 the sum
                    // max + log Σ rounds log Σ away.
                    let logTotal = S.log(total)
                    for k in 0..<length { y[base + k * inner] = (x[base + k * inner] - maximum) - logTotal }
                } else {
                    let inverse = 1 / total
                    for k in 0..<length { y[base + k * inner] *= inverse }
                }
            }
        }
    }

    /// For each row of an [rows, classes] matrix of logits: the probabilities (into `p`), and
    /// the row's maximum m and log Σ e^(z - m) through `logSumExp(row, m, logTotal)`; a loss
    /// takes (m - z) + logTotal, exact to rounding at any magnitude. One pass over the logits.
    @inlinable
    static func rowSoftmax<S: TensorScalar>(
        _ z: UnsafePointer<S>, _ p: UnsafeMutablePointer<S>, rows: Int, classes: Int,
        logSumExp: (_ row: Int, _ maximum: S, _ logTotal: S) -> Void
    ) {
        for i in 0..<rows {
            let row = z + i * classes
            let out = p + i * classes
            var maximum = -S.infinity
            for j in 0..<classes { maximum = Swift.max(maximum, row[j]) }
            for j in 0..<classes { out[j] = S.exp(row[j] - maximum) }
            let total = Summation.sum(out, count: classes)
            let inverse = 1 / total
            for j in 0..<classes { out[j] *= inverse }
            logSumExp(i, maximum, S.log(total))
        }
    }
}

extension Variable {
    /// softmax along `axis` (default the last): e^x / Σ e^x, stable for large |x|.
    /// ∂/∂x = y ⊙ (G - Σ(G ⊙ y)).
    @inlinable
    public func softmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        softmaxOp("softmax", axis: axis, logarithm: false) { ctx in
            guard let gx = ctx.a.gradient else { return }
            let (outer, length, inner) = ShapeMath.split(ctx.a.shape, axis: ctx.auxInt)
            let g = ctx.output.gradient.unsafelyUnwrapped
            let y = ctx.output.value
            for o in 0..<outer {
                for j in 0..<inner {
                    let base = o * length * inner + j
                    var dot: Scalar = 0
                    for k in 0..<length { dot += g[base + k * inner] * y[base + k * inner] }
                    for k in 0..<length { gx[base + k * inner] += y[base + k * inner] * (g[base + k * inner] - dot) }
                }
            }
        }
    } }

    /// log softmax along `axis` (default the last): x - log Σ e^x, stable for large |x|.
    /// ∂/∂x = G - softmax ⊙ ΣG.
    @inlinable
    public func logSoftmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        softmaxOp("logSoftmax", axis: axis, logarithm: true) { ctx in
            guard let gx = ctx.a.gradient else { return }
            let (outer, length, inner) = ShapeMath.split(ctx.a.shape, axis: ctx.auxInt)
            let g = ctx.output.gradient.unsafelyUnwrapped
            let y = ctx.output.value
            for o in 0..<outer {
                for j in 0..<inner {
                    let base = o * length * inner + j
                    var total: Scalar = 0
                    for k in 0..<length { total += g[base + k * inner] }
                    for k in 0..<length { gx[base + k * inner] += g[base + k * inner] - Scalar.exp(y[base + k * inner]) * total }
                }
            }
        }
    } }

    @inlinable
    func softmaxOp(_ op: StaticString, axis: Int, logarithm: Bool, pullback: @escaping Tape<Scalar>.Pullback) -> Variable {
        let s = shape
        let axis = ShapeMath.axis(axis, rank: s.count, op: op)
        return tape.record(op, shape: s, self, auxScalar: logarithm ? 1 : 0, auxInt: axis, kernel: SoftmaxForward.self,
                           pullback: pullback)
    }
}
