extension OpContext {
    /// For an elementwise op: `gx += g · dy/dx`, with `derivative(x, y)` giving dy/dx from the
    /// input and output values. Does nothing when the input needs no gradient.
    @inlinable @inline(__always)
    public func accumulateElementwise(_ derivative: (_ x: Scalar, _ y: Scalar) -> Scalar) {
        let a = self.a
        guard let gx = a.gradient else { return }
        let out = output
        let g = out.gradient.unsafelyUnwrapped
        let x = a.value
        let y = out.value
        for i in 0..<out.count { gx[i] += g[i] * derivative(x[i], y[i]) }
    }

    /// For an elementwise op following `rule`: `gx += g · rule.derivative(x, y, c)`.
    @inlinable @inline(__always)
    public func accumulateElementwise<Rule: ElementwiseRule>(_: Rule.Type) {
        let c = auxScalar
        accumulateElementwise { x, y in Rule.derivative(x, y, c) }
    }

    /// `target.gradient += contribution`, summed down to the target's shape when the target
    /// was broadcast. `contribution` has the output's shape.
    @inlinable @inline(__always)
    public func accumulateBroadcast(_ contribution: UnsafePointer<Scalar>, into target: TapeValue<Scalar>) {
        guard let gt = target.gradient else { return }
        let out = output
        if target.count == out.count {
            for i in 0..<out.count { gt[i] += contribution[i] }
        } else {
            ElementwiseKernels.accumulateReduced(contribution, out.shape, into: gt, target.shape)
        }
    }

    /// `target.gradient += scale · g ⊙ other [/ divisor]`, with `other` and `divisor` broadcast
    /// to the output's shape and the product summed back to the target's shape. Used by the
    /// pullbacks of `*` (∂a = g·b) and `/` (∂b = -g·y/b).
    @inlinable @inline(__always)
    func accumulateProduct(
        into target: TapeValue<Scalar>, times other: TapeValue<Scalar>, scaledBy scale: Scalar = 1,
        dividedBy divisor: TapeValue<Scalar>? = nil
    ) {
        guard target.gradient != nil else { return }
        let out = output
        let g = out.gradient.unsafelyUnwrapped
        let n = out.count
        let product = scratch(n)
        if other.count == n {
            for i in 0..<n { product[i] = scale * g[i] * other.value[i] }
        } else {
            ElementwiseKernels.binary(MultiplyOperation.self, g, out.shape, other.value, other.shape, product, out.shape)
            if scale != 1 { for i in 0..<n { product[i] *= scale } }
        }
        if let divisor {
            if divisor.count == n {
                for i in 0..<n { product[i] /= divisor.value[i] }
            } else {
                ElementwiseKernels.binary(DivideOperation.self, product, out.shape, divisor.value, divisor.shape, product, out.shape)
            }
        }
        accumulateBroadcast(product, into: target)
    }
}
