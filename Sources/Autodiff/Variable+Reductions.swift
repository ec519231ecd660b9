extension Variable {
    /// Shape of a reduction along `axis`.
    @inlinable
    static func reducedShape(_ shape: [Int], axis: Int, keepingDimensions: Bool) -> [Int] {
        var out = shape
        if keepingDimensions { out[axis] = 1 } else { out.remove(at: axis) }
        return out
    }

    /// Σ over all elements (pairwise), times `scale` (1 for sum, 1/n for mean).
    @inlinable
    func reduceAll(_ op: StaticString, scale: Scalar) -> Variable {
        tape.record(op, shape: [], self, auxScalar: scale, kernel: SumAllForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped[0] * ctx.auxScalar
            for i in 0..<ctx.a.count { gx[i] += g }
        })
    }

    /// Σ along one axis (pairwise), times 1 or 1/length.
    @inlinable
    func reduce(_ op: StaticString, axis: Int, keepingDimensions: Bool, mean: Bool) -> Variable {
        let inShape = shape
        let axis = ShapeMath.axis(axis, rank: inShape.count, op: op)
        let length = inShape[axis]
        let scale: Scalar = mean ? 1 / Scalar(length) : 1
        return tape.record(op, shape: Self.reducedShape(inShape, axis: axis, keepingDimensions: keepingDimensions),
                           self, auxScalar: scale, auxInt: axis, kernel: SumAlongAxisForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let (outer, length, inner) = ShapeMath.split(ctx.a.shape, axis: ctx.auxInt)
            let scale = ctx.auxScalar
            if inner == 1 {
                // Rows of 2-4 (coordinates) unrolled: a loop of three per row costs more than the adds.
                switch length {
                case 2: for o in 0..<outer { let d = g[o] * scale; gx[2 &* o] += d; gx[2 &* o &+ 1] += d }
                case 3:
                    for o in 0..<outer {
                        let d = g[o] * scale
                        gx[3 &* o] += d; gx[3 &* o &+ 1] += d; gx[3 &* o &+ 2] += d
                    }
                case 4:
                    for o in 0..<outer {
                        let d = g[o] * scale
                        gx[4 &* o] += d; gx[4 &* o &+ 1] += d; gx[4 &* o &+ 2] += d; gx[4 &* o &+ 3] += d
                    }
                default:
                    for o in 0..<outer {
                        let d = g[o] * scale
                        let row = gx + o &* length
                        for k in 0..<length { row[k] += d }
                    }
                }
                return
            }
            for o in 0..<outer {
                for k in 0..<length {
                    let row = gx + (o &* length &+ k) &* inner
                    let go = g + o &* inner
                    for j in 0..<inner { row[j] += go[j] * scale }
                }
            }
        })
    }

    /// The sum of all elements, a scalar (pairwise, accurate in Float). ∂/∂x = 1.
    @inlinable public func sum(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) { reduceAll("sum", scale: 1) } }

    /// The mean of all elements, a scalar; NaN for an empty tensor. ∂/∂x = 1/n.
    @inlinable
    public func mean(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        let n = tape.storage.pointee.entries[Int(index)].count
        return reduceAll("mean", scale: 1 / Scalar(n))
    } }

    /// The sum along `axis` (negative counts from the end), keeping it as length 1 if asked.
    /// ∂/∂x = G repeated along the axis.
    @inlinable
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        reduce("sum", axis: axis, keepingDimensions: keepingDimensions, mean: false)
    } }

    /// The mean along `axis`, keeping it as length 1 if asked; NaN along an empty axis.
    /// ∂/∂x = G/length repeated along the axis.
    @inlinable
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        reduce("mean", axis: axis, keepingDimensions: keepingDimensions, mean: true)
    } }

    /// The variance along `axis`, Σ(x - mean)²/n (numpy's default, `ddof = 0`).
    /// ∂/∂x = 2(x - mean)/n · G.
    @inlinable
    public func variance(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        let deviation = self - mean(alongAxis: axis, keepingDimensions: true)
        return deviation.squared().mean(alongAxis: axis, keepingDimensions: keepingDimensions)
    } }

    /// The standard deviation along `axis`, √variance (`ddof = 0`). ∂/∂x = (x - mean)/(n·σ) · G,
    /// and 0 where σ = 0 (constant data, an axis of length 1), as in PyTorch.
    @inlinable
    public func standardDeviation(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        variance(alongAxis: axis, keepingDimensions: keepingDimensions).elementwise("standardDeviation", RootOfSquaresRule.self)
    } }

    /// The variance of all elements, Σ(x - mean)²/n. ∂/∂x = 2(x - mean)/n.
    @inlinable
    public func variance(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) { (self - mean()).squared().mean() } }

    /// The standard deviation of all elements. ∂/∂x = (x - mean)/(n·σ), and 0 where σ = 0.
    @inlinable
    public func standardDeviation(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        variance().elementwise("standardDeviation", RootOfSquaresRule.self)
    } }

    /// The maximum along `axis`; NaN where the axis holds a NaN. The gradient goes to the first
    /// maximal element (NaN to the first NaN).
    @inlinable
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        extremum("max", axis: axis, keepingDimensions: keepingDimensions, largest: true)
    } }

    /// The minimum along `axis`; NaN where the axis holds a NaN. The gradient goes to the first
    /// minimal element (NaN to the first NaN).
    @inlinable
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        extremum("min", axis: axis, keepingDimensions: keepingDimensions, largest: false)
    } }

    /// The largest element, a scalar; NaN if any is NaN. The gradient goes to the first maximum.
    @inlinable
    public func max(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) { reshaped(to: [-1]).max(alongAxis: 0) } }

    /// The smallest element, a scalar; NaN if any is NaN. The gradient goes to the first minimum.
    @inlinable
    public func min(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) { reshaped(to: [-1]).min(alongAxis: 0) } }

    @inlinable
    func extremum(_ op: StaticString, axis: Int, keepingDimensions: Bool, largest: Bool) -> Variable {
        let inShape = shape
        let axis = ShapeMath.axis(axis, rank: inShape.count, op: op)
        let (outer, length, inner) = ShapeMath.split(inShape, axis: axis)
        Failure.check(length > 0, "\(op): axis \(axis) of \(ShapeMath.describe(inShape)) is empty")
        return tape.record(op, shape: Self.reducedShape(inShape, axis: axis, keepingDimensions: keepingDimensions),
                           self, auxScalar: largest ? 1 : 0, auxInt: axis, savedInts: outer * inner,
                           kernel: ExtremumForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let (outer, length, inner) = ShapeMath.split(ctx.a.shape, axis: ctx.auxInt)
            let (x, position) = (ctx.a.value, ctx.savedInts)
            for o in 0..<outer {
                for j in 0..<inner {
                    let i = (o * length + position[o * inner + j]) * inner + j
                    // A NaN chosen as the extremum gets a NaN gradient, as every op gives a NaN input.
                    gx[i] += x[i].isNaN ? x[i] : g[o * inner + j]
                }
            }
        })
    }

    /// log Σ e^x along `axis`, stable for any magnitude (rows of -∞ give -∞).
    /// ∂/∂x = G·e^(x - y) = G·softmax(x).
    @inlinable
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        let inShape = shape
        let axis = ShapeMath.axis(axis, rank: inShape.count, op: "logSumExp")
        let (outer, length, inner) = ShapeMath.split(inShape, axis: axis)
        return tape.record("logSumExp", shape: Self.reducedShape(inShape, axis: axis, keepingDimensions: keepingDimensions),
                           self, auxInt: axis, kernel: LogSumExpForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let (x, y, g) = (ctx.a.value, ctx.output.value, ctx.output.gradient.unsafelyUnwrapped)
            for o in 0..<outer {
                for k in 0..<length {
                    for j in 0..<inner {
                        let i = (o * length + k) * inner + j
                        let r = o * inner + j
                        if y[r] != -Scalar.infinity { gx[i] += g[r] * Scalar.exp(x[i] - y[r]) }
                    }
                }
            }
        })
    } }

    /// The position of the largest element along `axis` for every other index, row-major over
    /// the remaining axes (first maximum on ties; a NaN counts as the maximum). Not differentiable.
    public func argmax(alongAxis axis: Int) -> [Int] { value.argmax(alongAxis: axis) }

    /// The position of the smallest element along `axis` (first minimum on ties; a NaN counts as
    /// the minimum). Not differentiable.
    public func argmin(alongAxis axis: Int) -> [Int] { value.argmin(alongAxis: axis) }
}
