/// The engine's elementwise functions and reductions on plain tensors, without a tape: the
/// same rules and kernels as the ops on variables, for inference and data preparation.
extension Tensor {
    /// `Rule` applied to every element, with the rule's constant `c`.
    @inlinable
    func applying<Rule: UnaryRule>(_: Rule.Type, constant c: Scalar = 0) -> Tensor {
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in Scalar.evaluate(Rule.self, x.baseAddress!, into: out.baseAddress!, count: count, c) }
        }
    }
}

/// e^x, elementwise.
@inlinable public func exp<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(ExpRule.self) }
/// e^x - 1, accurate for small x, elementwise.
@inlinable public func expm1<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(ExpMinusOneRule.self) }
/// The natural logarithm, elementwise.
@inlinable public func log<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(LogRule.self) }
/// ln(1 + x), accurate for small x, elementwise.
@inlinable public func log1p<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(LogOnePlusRule.self) }
/// The square root, elementwise.
@inlinable public func sqrt<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(SquareRootRule.self) }
/// The absolute value, elementwise.
@inlinable public func abs<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(AbsoluteValueRule.self) }
/// Sine (radians), elementwise.
@inlinable public func sin<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(SineRule.self) }
/// Cosine (radians), elementwise.
@inlinable public func cos<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(CosineRule.self) }
/// Tangent (radians), elementwise.
@inlinable public func tan<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(TangentRule.self) }
/// Arcsine, elementwise.
@inlinable public func asin<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(ArcsineRule.self) }
/// Arccosine, elementwise.
@inlinable public func acos<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(ArccosineRule.self) }
/// Arctangent, elementwise.
@inlinable public func atan<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(ArctangentRule.self) }
/// Hyperbolic sine, elementwise.
@inlinable public func sinh<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(HyperbolicSineRule.self) }
/// Hyperbolic cosine, elementwise.
@inlinable public func cosh<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(HyperbolicCosineRule.self) }
/// Hyperbolic tangent, elementwise.
@inlinable public func tanh<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(TanhRule.self) }
/// The logistic function 1/(1+e^-x), without overflow, elementwise.
@inlinable public func sigmoid<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(SigmoidRule.self) }
/// ln(1 + e^x), without overflow, elementwise.
@inlinable public func softplus<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(SoftplusRule.self) }
/// max(x, 0); NaN stays NaN, elementwise.
@inlinable public func relu<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(ReluRule.self) }
/// x to a constant power p elementwise (an integer p by repeated multiplication).
@inlinable public func pow<S>(_ x: Tensor<S>, _ p: S) -> Tensor<S> { x.applying(PowerConstantRule.self, constant: p) }
/// x^y elementwise with numpy broadcasting.
@inlinable public func pow<S>(_ x: Tensor<S>, _ y: Tensor<S>) -> Tensor<S> { Tensor.broadcasting(BinaryRuleValue<PowerRule>.self, x, y, name: "pow") }
/// x where x > 0, else alpha·x, elementwise.
@inlinable public func leakyRelu<S>(_ x: Tensor<S>, alpha: S = 0.01) -> Tensor<S> { x.applying(LeakyReluRule.self, constant: alpha) }
/// x limited to [lo, hi] elementwise; NaN stays NaN.
@inlinable public func clamp<S>(_ x: Tensor<S>, min lo: S, max hi: S) -> Tensor<S> {
    Failure.check(lo <= hi, "clamp: the lower bound \(lo) is not at most the upper bound \(hi)")
    return x.applying(ClampBelowRule.self, constant: lo).applying(ClampAboveRule.self, constant: hi)
}
/// The angle of the point (x, y) elementwise, with numpy broadcasting.
@inlinable public func atan2<S>(_ y: Tensor<S>, _ x: Tensor<S>) -> Tensor<S> { Tensor.broadcasting(BinaryRuleValue<Arctangent2Rule>.self, y, x, name: "atan2") }
/// The larger of a and b elementwise, with numpy broadcasting; NaN if either is NaN.
@inlinable public func maximum<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.broadcasting(BinaryRuleValue<MaximumRule>.self, a, b, name: "maximum") }
/// The smaller of a and b elementwise, with numpy broadcasting; NaN if either is NaN.
@inlinable public func minimum<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.broadcasting(BinaryRuleValue<MinimumRule>.self, a, b, name: "minimum") }

extension Tensor {
    /// The sum along `axis` (negative counts from the end), pairwise.
    @inlinable
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduced("sum", axis, keepingDimensions) { x, outer, length, inner, y in
            ReductionKernels.sum(x, outer: outer, length: length, inner: inner, into: y, scale: 1)
        }
    }

    /// The mean along `axis`; NaN along an empty axis.
    @inlinable
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduced("mean", axis, keepingDimensions) { x, outer, length, inner, y in
            ReductionKernels.sum(x, outer: outer, length: length, inner: inner, into: y, scale: 1 / Scalar(length))
        }
    }

    /// The maximum along `axis`; NaN where the axis holds a NaN.
    @inlinable
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        extremum("max", axis, keepingDimensions, largest: true).values
    }

    /// The minimum along `axis`; NaN where the axis holds a NaN.
    @inlinable
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        extremum("min", axis, keepingDimensions, largest: false).values
    }

    /// The largest element; NaN if any is NaN. - Precondition: not empty.
    @inlinable public func max() -> Scalar { reshaped(to: [-1]).max(alongAxis: 0).scalars[0] }
    /// The smallest element; NaN if any is NaN. - Precondition: not empty.
    @inlinable public func min() -> Scalar { reshaped(to: [-1]).min(alongAxis: 0).scalars[0] }

    /// The position of the largest element along `axis` for every other index, row-major over
    /// the remaining axes (first maximum on ties; a NaN counts as the maximum).
    @inlinable
    public func argmax(alongAxis axis: Int) -> [Int] { extremum("argmax", axis, false, largest: true).positions }

    /// The position of the smallest element along `axis` (first minimum on ties; a NaN counts as
    /// the minimum).
    @inlinable
    public func argmin(alongAxis axis: Int) -> [Int] { extremum("argmin", axis, false, largest: false).positions }

    /// log Σ e^x along `axis`, stable for any magnitude.
    @inlinable
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduced("logSumExp", axis, keepingDimensions) { x, outer, length, inner, y in
            let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(length, 1))
            defer { scratch.deallocate() }
            ReductionKernels.logSumExp(x, outer: outer, length: length, inner: inner, into: y, scratch: scratch)
        }
    }

    /// The variance along `axis`, Σ(x - mean)²/n.
    @inlinable
    public func variance(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let deviation = self - mean(alongAxis: axis, keepingDimensions: true)
        return (deviation * deviation).mean(alongAxis: axis, keepingDimensions: keepingDimensions)
    }

    /// The standard deviation along `axis`, √variance.
    @inlinable
    public func standardDeviation(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sqrt(variance(alongAxis: axis, keepingDimensions: keepingDimensions))
    }

    @inlinable
    func reduced(
        _ op: StaticString, _ axis: Int, _ keepingDimensions: Bool,
        _ kernel: (UnsafePointer<Scalar>, Int, Int, Int, UnsafeMutablePointer<Scalar>) -> Void
    ) -> Tensor {
        let axis = ShapeMath.axis(axis, rank: rank, op: op)
        let (outer, length, inner) = ShapeMath.split(shape, axis: axis)
        return Tensor(shape: Variable<Scalar>.reducedShape(shape, axis: axis, keepingDimensions: keepingDimensions)) { out in
            withUnsafeBufferPointer { x in kernel(x.baseAddress!, outer, length, inner, out.baseAddress!) }
        }
    }

    @inlinable
    func extremum(_ op: StaticString, _ axis: Int, _ keepingDimensions: Bool, largest: Bool) -> (values: Tensor, positions: [Int]) {
        let axis = ShapeMath.axis(axis, rank: rank, op: op)
        let (outer, length, inner) = ShapeMath.split(shape, axis: axis)
        Failure.check(length > 0, "\(op): axis \(axis) of \(ShapeMath.describe(shape)) is empty")
        var positions = [Int](repeating: 0, count: outer * inner)
        let values = positions.withUnsafeMutableBufferPointer { p in
            Tensor(shape: Variable<Scalar>.reducedShape(shape, axis: axis, keepingDimensions: keepingDimensions)) { out in
                withUnsafeBufferPointer { x in
                    ReductionKernels.extremum(x.baseAddress!, outer: outer, length: length, inner: inner, largest: largest,
                                              into: out.baseAddress!, position: p.baseAddress)
                }
            }
        }
        return (values, positions)
    }
}
