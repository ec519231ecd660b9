/// An n-dimensional array of `Float` or `Double`: a value with copy-on-write storage, a shape,
/// and its elements in row-major order. Rank 0 is a scalar.
///
/// ```swift
/// let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let b = a + Tensor([10, 20, 30])     // broadcasts the row over both rows
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable, Equatable {
    @usableFromInline var storedShape: [Int]
    @usableFromInline var storedScalars: [Scalar]

    /// The length of each axis; `[]` for a scalar.
    @inlinable public var shape: [Int] { storedShape }
    /// The elements in row-major order; `shape` multiplied out gives their count.
    @inlinable public var scalars: [Scalar] { storedScalars }

    /// A tensor of `shape` holding `scalars` in row-major order.
    /// - Precondition: the product of `shape` equals `scalars.count` and no axis is negative.
    @inlinable
    public init(shape: [Int], scalars: [Scalar]) {
        let count = ShapeMath.checkedCount(shape, op: "Tensor")
        Failure.check(count == scalars.count,
                      "Tensor: shape \(ShapeMath.describe(shape)) needs \(count) scalars, got \(scalars.count)")
        self.storedShape = shape
        self.storedScalars = scalars
    }

    /// A rank-0 tensor.
    @inlinable
    public init(_ scalar: Scalar) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A rank-1 tensor.
    @inlinable
    public init(_ vector: [Scalar]) {
        self.init(shape: [vector.count], scalars: vector)
    }

    /// A rank-2 tensor from its rows. - Precondition: all rows have the same length.
    @inlinable
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        Failure.check(rows.allSatisfy { $0.count == columns }, "Tensor: rows have different lengths")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A tensor of `shape` whose elements are all `value`.
    @inlinable
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape, scalars: [Scalar](repeating: value, count: ShapeMath.checkedCount(shape, op: "Tensor")))
    }

    /// A tensor of `shape` filled by `body` with exactly `count` elements, without a first pass
    /// of zeros.
    @inlinable
    public init(
        shape: [Int], unsafeUninitializedScalars body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void
    ) rethrows {
        let count = ShapeMath.checkedCount(shape, op: "Tensor")
        self.storedShape = shape
        self.storedScalars = try [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            try body(buffer)
            initialized = count
        }
    }

    /// All zeros.
    @inlinable public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// All ones.
    @inlinable public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    /// The n×n identity matrix.
    @inlinable
    public static func identity(_ n: Int) -> Tensor {
        var t = zeros([n, n])
        t.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i * n + i] = 1 } }
        return t
    }

    /// The number of axes.
    @inlinable public var rank: Int { shape.count }
    /// The number of elements.
    @inlinable public var count: Int { scalars.count }
    /// The only element of a one-element tensor. - Precondition: `count == 1`.
    @inlinable
    public var scalar: Scalar {
        Failure.check(count == 1, "Tensor.scalar: tensor of shape \(ShapeMath.describe(shape)) has \(count) elements, not 1")
        return scalars[0]
    }

    /// The element at a full index, one entry per axis.
    @inlinable
    public subscript(index: Int...) -> Scalar {
        get { scalars[flatIndex(index)] }
        set { storedScalars[flatIndex(index)] = newValue }
    }

    @inlinable
    func flatIndex(_ index: [Int]) -> Int {
        Failure.check(index.count == rank, "Tensor: index of \(index.count) axes for a tensor of rank \(rank)")
        var flat = 0
        for (axis, i) in index.enumerated() {
            Failure.check(i >= 0 && i < shape[axis], "Tensor: index \(index) is out of range for shape \(ShapeMath.describe(shape))")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// Calls `body` with the elements in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the elements for writing (copying the storage first if it is shared).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try storedScalars.withUnsafeMutableBufferPointer(body)
    }

    /// The same elements with a new shape; one axis may be -1 and is then inferred.
    @inlinable
    public func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: ShapeMath.resolveReshape(newShape, count: count, from: shape), scalars: scalars)
    }

    /// The transpose of a matrix. - Precondition: rank 2.
    public func transposed() -> Tensor {
        Failure.check(rank == 2, "transpose: \(ShapeMath.describe(shape)) is not a matrix")
        let (m, n) = (shape[0], shape[1])
        return Tensor(shape: [n, m]) { out in
            scalars.withUnsafeBufferPointer { a in
                for i in 0..<m { for j in 0..<n { out[j * m + i] = a[i * n + j] } }
            }
        }
    }

    /// The tensor with `transform` applied to every element (convenience; not for hot paths).
    @inlinable
    public func map(_ transform: (Scalar) throws -> Scalar) rethrows -> Tensor {
        Tensor(shape: shape, scalars: try scalars.map(transform))
    }

    /// The same values converted to another scalar type.
    @inlinable
    public func converted<Other: TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
    }
}

extension ShapeMath {
    @usableFromInline
    static func resolveReshape(_ newShape: [Int], count: Int, from shape: [Int]) -> [Int] {
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        Failure.check(inferred.count <= 1 && newShape.allSatisfy { $0 >= -1 },
                     "reshape: \(describe(shape)) to \(describe(newShape)): every axis must be ≥ 0, or -1 (inferred) once")
        if let axis = inferred.first {
            let known = newShape.enumerated().filter { $0.offset != axis }.reduce(1) { $0 * $1.element }
            Failure.check(known > 0 && count % known == 0,
                         "reshape: \(describe(shape)) to \(describe(newShape)): \(count) elements do not divide")
            resolved[axis] = count / known
        }
        Failure.check(ShapeMath.checkedCount(resolved, op: "reshape") == count,
                     "reshape: \(describe(shape)) to \(describe(newShape)): element counts differ (\(count) vs \(ShapeMath.count(resolved)))")
        return resolved
    }
}

extension Tensor: CustomStringConvertible {
    /// Nested brackets like numpy, shortened with `…` beyond 8 entries per axis.
    public var description: String {
        if rank == 0 { return "\(scalars[0])" }
        func render(_ axis: Int, _ offset: Int) -> String {
            let length = shape[axis]
            var stride = 1
            for d in shape[(axis + 1)...] { stride *= d }
            let shown = length > 8 ? Array(0..<3) + [-1] + Array((length - 3)..<length) : Array(0..<length)
            let parts = shown.map { i -> String in
                if i < 0 { return "…" }
                return axis == rank - 1 ? "\(scalars[offset + i])" : render(axis + 1, offset + i * stride)
            }
            let separator = axis == rank - 1 ? ", " : ",\n" + String(repeating: " ", count: axis + 1)
            return "[" + parts.joined(separator: separator) + "]"
        }
        return render(0, 0)
    }
}
