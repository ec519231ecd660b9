extension Variable {
    /// Shape of a reduction along `axis`.
    @inlinable
    func reducedShape(_ shape: [Int], axis: Int, keepingDimensions: Bool) -> [Int] {
        var out = shape
        if keepingDimensions { out[axis] = 1 } else { out.remove(at: axis) }
        return out
    }

    /// Σ over all elements, times `scale` (1 for sum, 1/n for mean).
    @inlinable
    func reduceAll(_ op: StaticString, scale: Scalar) -> Variable {
        tape.record(op, shape: [], self, auxScalar: scale, forward: { ctx in
            let x = ctx.a.value
            var total: Scalar = 0
            for i in 0..<ctx.a.count { total += x[i] }
            ctx.output.value[0] = total * ctx.auxScalar
        }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped[0] * ctx.auxScalar
            for i in 0..<ctx.a.count { gx[i] += g }
        })
    }

    /// Σ along one axis, times `scale`.
    @inlinable
    func reduce(_ op: StaticString, axis: Int, keepingDimensions: Bool, mean: Bool) -> Variable {
        let inShape = shape
        let axis = ShapeMath.axis(axis, rank: inShape.count, op: op)
        let (outer, length, inner) = ShapeMath.split(inShape, axis: axis)
        let scale: Scalar = mean ? 1 / Scalar(Swift.max(length, 1)) : 1
        return tape.record(op, shape: reducedShape(inShape, axis: axis, keepingDimensions: keepingDimensions),
                           self, auxScalar: scale, auxInt: axis, forward: { ctx in
            let x = ctx.a.value
            let y = ctx.output.value
            let scale = ctx.auxScalar
            for o in 0..<outer {
                for j in 0..<inner { y[o * inner + j] = 0 }
                for k in 0..<length {
                    let row = x + (o * length + k) * inner
                    for j in 0..<inner { y[o * inner + j] += row[j] }
                }
                for j in 0..<inner { y[o * inner + j] *= scale }
            }
        }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let (outer, length, inner) = ShapeMath.split(ctx.a.shape, axis: ctx.auxInt)
            let scale = ctx.auxScalar
            for o in 0..<outer {
                for k in 0..<length {
                    let row = gx + (o * length + k) * inner
                    for j in 0..<inner { row[j] += g[o * inner + j] * scale }
                }
            }
        })
    }

    /// The sum of all elements, a scalar. ∂/∂x = 1.
    @inlinable public func sum() -> Variable { reduceAll("sum", scale: 1) }

    /// The mean of all elements, a scalar. ∂/∂x = 1/n.
    @inlinable
    public func mean() -> Variable {
        let n = tape.storage.pointee.entries[Int(index)].count
        return reduceAll("mean", scale: 1 / Scalar(Swift.max(n, 1)))
    }

    /// The sum along `axis` (negative counts from the end), keeping it as length 1 if asked.
    @inlinable
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Variable {
        reduce("sum", axis: axis, keepingDimensions: keepingDimensions, mean: false)
    }

    /// The mean along `axis`, keeping it as length 1 if asked.
    @inlinable
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Variable {
        reduce("mean", axis: axis, keepingDimensions: keepingDimensions, mean: true)
    }

    /// The maximum along `axis`. The gradient goes to the first maximal element.
    @inlinable
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Variable {
        let inShape = shape
        let axis = ShapeMath.axis(axis, rank: inShape.count, op: "max")
        let (outer, length, inner) = ShapeMath.split(inShape, axis: axis)
        precondition(length > 0, "max: axis \(axis) of \(ShapeMath.describe(inShape)) is empty")
        return tape.record("max", shape: reducedShape(inShape, axis: axis, keepingDimensions: keepingDimensions),
                           self, auxInt: axis, savedInts: outer * inner, forward: { ctx in
            let x = ctx.a.value
            let y = ctx.output.value
            let where_ = ctx.savedInts
            for o in 0..<outer {
                for j in 0..<inner {
                    var best = 0
                    var value = x[o * length * inner + j]
                    for k in 1..<length where x[(o * length + k) * inner + j] > value {
                        value = x[(o * length + k) * inner + j]
                        best = k
                    }
                    y[o * inner + j] = value
                    where_[o * inner + j] = best
                }
            }
        }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let (outer, length, inner) = ShapeMath.split(ctx.a.shape, axis: ctx.auxInt)
            let where_ = ctx.savedInts
            for o in 0..<outer {
                for j in 0..<inner { gx[(o * length + where_[o * inner + j]) * inner + j] += g[o * inner + j] }
            }
        })
    }
}
