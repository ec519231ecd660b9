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
}
