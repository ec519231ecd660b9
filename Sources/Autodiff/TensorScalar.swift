import CKernels
import Foundation

/// The element types a ``Tensor`` and a ``Tape`` work with: `Float` for speed, `Double` for
/// gradient checks. The requirements are the elementary functions the ops need and the entry
/// point of the matrix-product kernel, so that generic code reaches the right C kernel.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// e^x.
    static func exp(_ x: Self) -> Self
    /// Natural logarithm.
    static func log(_ x: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func tanh(_ x: Self) -> Self
    /// x raised to the power y.
    static func pow(_ x: Self, _ y: Self) -> Self
    /// e^x - 1, accurate for small x.
    static func expm1(_ x: Self) -> Self
    /// Sine (radians).
    static func sin(_ x: Self) -> Self
    /// Cosine (radians).
    static func cos(_ x: Self) -> Self
    /// Tangent (radians).
    static func tan(_ x: Self) -> Self
    /// Arcsine, in [-π/2, π/2].
    static func asin(_ x: Self) -> Self
    /// Arccosine, in [0, π].
    static func acos(_ x: Self) -> Self
    /// Arctangent, in (-π/2, π/2).
    static func atan(_ x: Self) -> Self
    /// The angle of the point (x, y), in (-π, π].
    static func atan2(_ y: Self, _ x: Self) -> Self
    /// Hyperbolic sine.
    static func sinh(_ x: Self) -> Self
    /// Hyperbolic cosine.
    static func cosh(_ x: Self) -> Self
    /// y[i] = 1/(1+e^-x[i]) for `count` elements, without overflow (see ``ScalarMath/sigmoid(_:)``);
    /// Float runs a vectorised C kernel (`ck_ssigmoid`).
    static func sigmoid(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    /// y[i] = tanh x[i] for `count` elements; Float runs a vectorised C kernel (`ck_stanh`).
    static func tanh(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    /// The C matrix-product kernel for this type (see `ck_sgemm_block`): C = A·B + beta·C with
    /// arbitrary row and column strides for A and B, row-major C, for a block of rows or columns
    /// of a product of `wholeRows` × `wholeColumns` (m and n for a whole product), computed bit
    /// for bit as the whole product computes it, with the kernels of `instructionSet` (or the best
    /// set below it that the CPU runs).
    static func gemmKernel(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Self>, rowStrideA: Int, columnStrideA: Int,
        b: UnsafePointer<Self>, rowStrideB: Int, columnStrideB: Int,
        c: UnsafeMutablePointer<Self>, ldc: Int, beta: Self, wholeRows: Int, wholeColumns: Int,
        instructionSet: KernelInstructionSet)
    /// The register tile of `gemmKernel` with the kernels of `instructionSet`: a product split
    /// across threads at multiples of it computes every element as the whole product does.
    static func gemmTile(_ instructionSet: KernelInstructionSet) -> (rows: Int, columns: Int)

    /// The unary rule at x with the op's constant c: `Rule.value(x, c)` for a real scalar. A
    /// ``Dual`` takes the value at its real part and the tangent from `Rule.derivative`, so that
    /// forward mode uses the very derivative reverse mode uses, at kinks, ties and NaN too.
    static func evaluate<Rule: UnaryRule>(_: Rule.Type, _ x: Self, _ c: Self) -> Self
    /// The unary rule for `count` elements: `Rule.values` (and its vector
    /// kernel) for a real scalar.
    static func evaluate<Rule: UnaryRule>(
        _: Rule.Type, _ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int, _ c: Self)
    /// The binary rule at (a, b): `Rule.value(a, b)` for a real scalar; a ``Dual`` takes its
    /// tangent from `Rule.partials`.
    static func evaluate<Rule: BinaryRule>(_: Rule.Type, _ a: Self, _ b: Self) -> Self
    /// The value as a constant: itself for a real scalar, the real part with every tangent
    /// dropped for a ``Dual`` (what ``stopGradient(_:)`` passes on).
    var constantPart: Self { get }
}

extension TensorScalar {
    @inlinable @inline(__always)
    public static func evaluate<Rule: UnaryRule>(_: Rule.Type, _ x: Self, _ c: Self) -> Self { Rule.value(x, c) }
    @inlinable @inline(__always)
    public static func evaluate<Rule: UnaryRule>(
        _: Rule.Type, _ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int, _ c: Self
    ) {
        Rule.values(x, y, count: count, c)
    }
    @inlinable @inline(__always)
    public static func evaluate<Rule: BinaryRule>(_: Rule.Type, _ a: Self, _ b: Self) -> Self { Rule.value(a, b) }
    @inlinable @inline(__always)
    public var constantPart: Self { self }
}

/// A binary rule's forward value as a ``BinaryFunction`` for the broadcasting kernels, through
/// `TensorScalar.evaluate`, so that dual numbers take the rule's partials.
@usableFromInline
enum BinaryRuleValue<Rule: BinaryRule>: BinaryFunction {
    @inlinable @inline(__always)
    static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { S.evaluate(Rule.self, a, b) }
}

extension Float: TensorScalar {
    @inlinable public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
    @inlinable public static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
    @inlinable public static func sin(_ x: Float) -> Float { Foundation.sin(x) }
    @inlinable public static func cos(_ x: Float) -> Float { Foundation.cos(x) }
    @inlinable public static func tan(_ x: Float) -> Float { Foundation.tan(x) }
    @inlinable public static func asin(_ x: Float) -> Float { Foundation.asin(x) }
    @inlinable public static func acos(_ x: Float) -> Float { Foundation.acos(x) }
    @inlinable public static func atan(_ x: Float) -> Float { Foundation.atan(x) }
    @inlinable public static func sinh(_ x: Float) -> Float { Foundation.sinh(x) }
    @inlinable public static func cosh(_ x: Float) -> Float { Foundation.cosh(x) }
    @inlinable public static func atan2(_ y: Float, _ x: Float) -> Float { Foundation.atan2(y, x) }
    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        ck_ssigmoid(count, x, y, 0)
    }
    @inlinable
    public static func tanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        ck_stanh(count, x, y, 0)
    }
    @inlinable
    public static func gemmKernel(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, rowStrideA: Int, columnStrideA: Int,
        b: UnsafePointer<Float>, rowStrideB: Int, columnStrideB: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, wholeRows: Int, wholeColumns: Int,
        instructionSet: KernelInstructionSet
    ) {
        ck_sgemm_block(m, n, k, a, rowStrideA, columnStrideA, b, rowStrideB, columnStrideB, c, ldc, beta,
                       wholeRows, wholeColumns, Int32(instructionSet.rawValue))
    }
    @inlinable
    public static func gemmTile(_ instructionSet: KernelInstructionSet) -> (rows: Int, columns: Int) {
        var rows = 0, columns = 0
        ck_gemm_tile(Int32(instructionSet.rawValue), 0, &rows, &columns)
        return (rows, columns)
    }
}

extension Double: TensorScalar {
    @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    @inlinable public static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
    @inlinable public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    @inlinable public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    @inlinable public static func tan(_ x: Double) -> Double { Foundation.tan(x) }
    @inlinable public static func asin(_ x: Double) -> Double { Foundation.asin(x) }
    @inlinable public static func acos(_ x: Double) -> Double { Foundation.acos(x) }
    @inlinable public static func atan(_ x: Double) -> Double { Foundation.atan(x) }
    @inlinable public static func sinh(_ x: Double) -> Double { Foundation.sinh(x) }
    @inlinable public static func cosh(_ x: Double) -> Double { Foundation.cosh(x) }
    @inlinable public static func atan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }
    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = ScalarMath.sigmoid(x[i]) }
    }
    @inlinable
    public static func tanh(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = Foundation.tanh(x[i]) }
    }
    @inlinable
    public static func gemmKernel(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Double>, rowStrideA: Int, columnStrideA: Int,
        b: UnsafePointer<Double>, rowStrideB: Int, columnStrideB: Int,
        c: UnsafeMutablePointer<Double>, ldc: Int, beta: Double, wholeRows: Int, wholeColumns: Int,
        instructionSet: KernelInstructionSet
    ) {
        ck_dgemm_block(m, n, k, a, rowStrideA, columnStrideA, b, rowStrideB, columnStrideB, c, ldc, beta,
                       wholeRows, wholeColumns, Int32(instructionSet.rawValue))
    }
    @inlinable
    public static func gemmTile(_ instructionSet: KernelInstructionSet) -> (rows: Int, columns: Int) {
        var rows = 0, columns = 0
        ck_gemm_tile(Int32(instructionSet.rawValue), 1, &rows, &columns)
        return (rows, columns)
    }
}
