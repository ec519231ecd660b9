extension Tensor {
    @inlinable
    static func broadcasting<F: BinaryFunction>(
        _ op: F.Type, _ lhs: Tensor, _ rhs: Tensor, name: StaticString
    ) -> Tensor {
        let shape = ShapeMath.broadcast(lhs.shape, rhs.shape, op: name)
        return Tensor(shape: shape) { out in
            lhs.withUnsafeBufferPointer { a in
                rhs.withUnsafeBufferPointer { b in
                    BroadcastKernels.binary(op, a.baseAddress!, lhs.shape, b.baseAddress!, rhs.shape,
                                              out.baseAddress!, shape)
                }
            }
        }
    }

    /// Elementwise sum with numpy broadcasting.
    @inlinable public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(AddRule.self, lhs, rhs, name: "add") }
    /// Elementwise difference with numpy broadcasting.
    @inlinable public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(SubtractRule.self, lhs, rhs, name: "subtract") }
    /// Elementwise product with numpy broadcasting.
    @inlinable public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(MultiplyRule.self, lhs, rhs, name: "multiply") }
    /// Elementwise quotient with numpy broadcasting.
    @inlinable public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(DivideRule.self, lhs, rhs, name: "divide") }

    /// Adds a scalar to every element.
    @inlinable public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
    /// Subtracts a scalar from every element.
    @inlinable public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
    /// Multiplies every element by a scalar.
    @inlinable public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
    /// Divides every element by a scalar.
    @inlinable public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
    /// Adds a scalar to every element.
    @inlinable public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    /// Subtracts every element from a scalar.
    @inlinable public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
    /// Multiplies every element by a scalar.
    @inlinable public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    /// Divides a scalar by every element.
    @inlinable public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }
    /// Negates every element.
    @inlinable public static prefix func - (operand: Tensor) -> Tensor { operand.map { -$0 } }

    /// In-place elementwise sum; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    /// In-place elementwise difference; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }

    /// The sum of all elements (pairwise, accurate in Float).
    @inlinable
    public func sum() -> Scalar {
        withUnsafeBufferPointer { p in Summation.sum(p.baseAddress!, count: p.count) }
    }

    /// The mean of all elements; NaN for an empty tensor.
    @inlinable
    public func mean() -> Scalar { sum() / Scalar(count) }

    /// The index of the largest element of each row of a matrix (e.g. the predicted class of
    /// each sample from logits or probabilities). - Precondition: rank 2.
    public func argmaxRows() -> [Int] {
        Failure.check(rank == 2, "argmaxRows: \(ShapeMath.describe(shape)) is not a matrix")
        let (m, n) = (shape[0], shape[1])
        return withUnsafeBufferPointer { p in
            (0..<m).map { i in
                var best = 0
                for j in 1..<Swift.max(n, 1) where p[i * n + j] > p[i * n + best] { best = j }
                return best
            }
        }
    }

    /// The largest absolute difference between corresponding elements of two tensors of the
    /// same shape, for comparing results in tests.
    public func maxAbsoluteDifference(_ other: Tensor) -> Scalar {
        Failure.check(shape == other.shape, "maxAbsoluteDifference: \(ShapeMath.describe(shape)) and \(ShapeMath.describe(other.shape)) differ")
        var worst: Scalar = 0
        for (x, y) in zip(scalars, other.scalars) { worst = Swift.max(worst, abs(x - y)) }
        return worst
    }
}
