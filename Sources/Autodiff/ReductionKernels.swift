/// Reductions along the middle axis of a buffer viewed as [outer, length, inner], shared by
/// tensors and tape ops. Sums are pairwise (see ``Summation``); extrema propagate NaN.
@usableFromInline
enum ReductionKernels {
    /// y[o, j] = scale · Σ_k x[o, k, j].
    @inlinable
    static func sum<S: TensorScalar>(
        _ x: UnsafePointer<S>, outer: Int, length: Int, inner: Int, into y: UnsafeMutablePointer<S>, scale: S
    ) {
        if inner == 1 && length == 3 {
            for o in 0..<outer { y[o] = ((x[3 &* o] + x[3 &* o &+ 1]) + x[3 &* o &+ 2]) * scale }
            return
        }
        if inner == 1 && length <= 8 {
            // Short rows (the 3 of coordinates): a plain loop, no call per row.
            for o in 0..<outer {
                let row = x + o &* length
                var total: S = 0
                for k in 0..<length { total += row[k] }
                y[o] = total * scale
            }
            return
        }
        if inner == 1 {
            for o in 0..<outer { y[o] = Summation.sum(x + o &* length, count: length) * scale }
            return
        }
        for o in 0..<outer {
            let row = y + o &* inner
            Summation.sumRows(x + o &* length &* inner, length: length, inner: inner, into: row)
            if scale != 1 { for j in 0..<inner { row[j] *= scale } }
        }
    }

    /// y[o, j] = the largest (or smallest) x[o, k, j] over k, NaN if any is NaN; `position`
    /// receives the k of the first such element. - Precondition: length > 0.
    @inlinable
    static func extremum<S: TensorScalar>(
        _ x: UnsafePointer<S>, outer: Int, length: Int, inner: Int, largest: Bool,
        into y: UnsafeMutablePointer<S>, position: UnsafeMutablePointer<Int>?
    ) {
        for o in 0..<outer {
            for j in 0..<inner {
                let base = x + (o &* length &* inner &+ j)
                var best = base[0]
                var at = 0
                if !best.isNaN {
                    for k in 1..<Swift.max(length, 1) {
                        let v = base[k &* inner]
                        if v.isNaN { best = v; at = k; break }
                        if largest ? v > best : v < best { best = v; at = k }
                    }
                }
                y[o &* inner &+ j] = best
                position?[o &* inner &+ j] = at
            }
        }
    }

    /// y[o, j] = log Σ_k e^x[o, k, j], computed as m + log Σ e^(x - m) with m the maximum (0
    /// when m is infinite, so rows of -∞ give -∞ and a +∞ gives +∞).
    @inlinable
    static func logSumExp<S: TensorScalar>(
        _ x: UnsafePointer<S>, outer: Int, length: Int, inner: Int, into y: UnsafeMutablePointer<S>,
        scratch: UnsafeMutablePointer<S>
    ) {
        extremum(x, outer: outer, length: length, inner: inner, largest: true, into: y, position: nil)
        for o in 0..<outer {
            for j in 0..<inner {
                let base = x + (o &* length &* inner &+ j)
                let maximum = y[o &* inner &+ j]
                let shift = maximum.isFinite ? maximum : 0
                for k in 0..<length { scratch[k] = S.exp(base[k &* inner] - shift) }
                y[o &* inner &+ j] = shift + S.log(Summation.sum(scratch, count: length))
            }
        }
    }
}
