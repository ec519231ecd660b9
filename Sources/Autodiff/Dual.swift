import Foundation

/// A dual number `value + tangent·ε` with ε² = 0: arithmetic on it carries the derivative along
/// a direction, so f(x + vε) = f(x) + (∇f·v)ε for any f built from its operations.
///
/// `Dual` is a ``TensorScalar``, so tensors, tapes and every op of the engine run on it
/// unchanged. A tape of duals gives forward mode (``jvp(at:direction:of:)``) and, with a backward
/// pass over it, forward-over-reverse second derivatives: the tangent of the gradient is a
/// Hessian-vector product (``hessianVectorProduct(at:direction:of:)``). Matrix products of duals
/// are three real products through the base type's kernel.
///
/// Arithmetic, the elementary functions of ``TensorScalar``, `squareRoot()`, `magnitude`, the
/// remainders and `addProduct` carry the tangent. The elementary functions, `squareRoot()` and
/// `magnitude` are not written again here: each is its op's rule (``UnaryRule``,
/// ``BinaryRule``), the value at the real part and the tangent from the rule's derivative, so
/// forward mode, reverse mode and second derivatives take the same derivative at every point
/// (|x| at 0 has tangent 0, as its gradient is 0). A zero tangent stays zero (a constant).
///
/// Comparisons (`==`, `<`, `max`, `min`, equality masks) look at the value only, so ties and
/// branches mean the same on dual tapes as on real ones; `hash(into:)` hashes the value only to
/// match, and `isNaN`, `isFinite` and `isInfinite` describe the value (a rule's "NaN at NaN"
/// branch looks at the point, not at the direction). `isZero` is true only when both parts are
/// zero: a constant zero. Rounding, `ulp`, `nextUp` and the
/// bit-level members of `BinaryFloatingPoint` describe the value and give no tangent (a
/// conversion to `Double` keeps the value).
@frozen
public struct Dual<Base: TensorScalar>: TensorScalar {
    /// The real part: the function's value.
    public var value: Base
    /// The ε part: the derivative along the seeded direction.
    public var tangent: Base

    /// value + tangent·ε.
    @inlinable @inline(__always)
    public init(_ value: Base, tangent: Base) {
        self.value = value
        self.tangent = tangent
    }

    /// A constant: `value` with tangent 0.
    @inlinable @inline(__always)
    public init(_ value: Base) { self.init(value, tangent: 0) }

    public typealias Exponent = Base.Exponent
    public typealias RawSignificand = Base.RawSignificand
    public typealias RawExponent = Base.RawExponent
    public typealias Magnitude = Dual
    public typealias Stride = Dual
    public typealias IntegerLiteralType = Int
    public typealias FloatLiteralType = Double

    /// `value + tangentε`, or the value alone when the tangent is 0.
    public var description: String {
        tangent == 0 ? "\(value)" : "\(value) + \(tangent)ε"
    }
}

// MARK: Arithmetic (the derivative rules of +, -, ×, ÷)

extension Dual {
    @inlinable @inline(__always)
    public static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, tangent: a.tangent + b.tangent) }
    @inlinable @inline(__always)
    public static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, tangent: a.tangent - b.tangent) }
    /// d(ab) = a·db + da·b.
    @inlinable @inline(__always)
    public static func * (a: Dual, b: Dual) -> Dual {
        Dual(a.value * b.value, tangent: a.value * b.tangent + a.tangent * b.value)
    }
    /// d(a/b) = (da - (a/b)·db)/b.
    @inlinable @inline(__always)
    public static func / (a: Dual, b: Dual) -> Dual {
        let q = a.value / b.value
        return Dual(q, tangent: (a.tangent - q * b.tangent) / b.value)
    }
    @inlinable @inline(__always) public static func += (a: inout Dual, b: Dual) { a = a + b }
    @inlinable @inline(__always) public static func -= (a: inout Dual, b: Dual) { a = a - b }
    @inlinable @inline(__always) public static func *= (a: inout Dual, b: Dual) { a = a * b }
    @inlinable @inline(__always) public static func /= (a: inout Dual, b: Dual) { a = a / b }
    @inlinable @inline(__always) public static prefix func - (a: Dual) -> Dual { Dual(-a.value, tangent: -a.tangent) }
    @inlinable @inline(__always) public mutating func negate() { self = -self }

    /// x - n·y for the integer quotient n (rounded to nearest): d = dx - n·dy.
    @inlinable
    public mutating func formRemainder(dividingBy other: Dual) {
        let r = value.remainder(dividingBy: other.value)
        let n = ((value - r) / other.value).rounded()
        self = Dual(r, tangent: tangent - n * other.tangent)
    }

    /// x - n·y for n truncated toward zero: d = dx - n·dy.
    @inlinable
    public mutating func formTruncatingRemainder(dividingBy other: Dual) {
        let r = value.truncatingRemainder(dividingBy: other.value)
        let n = ((value - r) / other.value).rounded()
        self = Dual(r, tangent: tangent - n * other.tangent)
    }

    /// √x (the square-root rule): d = dx / (2√x).
    @inlinable
    public mutating func formSquareRoot() { self = Dual.evaluate(SquareRootRule.self, self, 0) }

    @inlinable
    public mutating func addProduct(_ lhs: Dual, _ rhs: Dual) { self += lhs * rhs }

    /// The value rounded; the tangent is 0 (a step function).
    @inlinable
    public mutating func round(_ rule: FloatingPointRoundingRule) { self = Dual(value.rounded(rule)) }

    /// |x| (the absolute-value rule): d = sign(x)·dx, 0 at 0.
    @inlinable
    public var magnitude: Dual { Dual.evaluate(AbsoluteValueRule.self, self, 0) }

    @inlinable public func distance(to other: Dual) -> Dual { other - self }
    @inlinable public func advanced(by n: Dual) -> Dual { self + n }
}

// MARK: Comparison, hashing

extension Dual {
    /// Equal values (the tangents are not compared, as no other comparison looks at them).
    @inlinable
    public static func == (a: Dual, b: Dual) -> Bool { a.value == b.value }
    /// By value only.
    @inlinable
    public static func < (a: Dual, b: Dual) -> Bool { a.value < b.value }
    @inlinable
    public func isEqual(to other: Dual) -> Bool { self == other }
    @inlinable
    public func isLess(than other: Dual) -> Bool { value < other.value }
    @inlinable
    public func isLessThanOrEqualTo(_ other: Dual) -> Bool { value <= other.value }
    @inlinable
    public func isTotallyOrdered(belowOrEqualTo other: Dual) -> Bool { value.isTotallyOrdered(belowOrEqualTo: other.value) }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

// MARK: Construction and the floating-point description of the value

extension Dual {
    @inlinable public init(integerLiteral value: Int) { self.init(Base(value)) }
    @inlinable public init(floatLiteral value: Double) { self.init(Base(value)) }
    @inlinable public init(_ value: Int) { self.init(Base(value)) }
    @inlinable public init<Source: BinaryInteger>(_ value: Source) { self.init(Base(value)) }
    @inlinable public init?<Source: BinaryInteger>(exactly value: Source) {
        guard let v = Base(exactly: value) else { return nil }
        self.init(v)
    }
    @inlinable public init(_ value: Float) { self.init(Base(value)) }
    @inlinable public init(_ value: Double) { self.init(Base(value)) }
    #if !(os(Windows) || os(Android)) && (arch(i386) || arch(x86_64))
    @inlinable public init(_ value: Float80) { self.init(Base(value)) }
    #endif
    /// A dual keeps its tangent; any other floating-point value is a constant.
    @inlinable public init<Source: BinaryFloatingPoint>(_ value: Source) {
        if let dual = value as? Dual { self = dual } else { self.init(Base(value)) }
    }
    @inlinable public init?<Source: BinaryFloatingPoint>(exactly value: Source) {
        if let dual = value as? Dual { self = dual; return }
        guard let v = Base(exactly: value) else { return nil }
        self.init(v)
    }
    @inlinable public init(sign: FloatingPointSign, exponent: Exponent, significand: Dual) {
        self.init(Base(sign: sign, exponent: exponent, significand: significand.value),
                  tangent: Base(sign: sign, exponent: exponent, significand: significand.tangent))
    }
    @inlinable public init(signOf sign: Dual, magnitudeOf magnitude: Dual) {
        self = (sign.value.sign == magnitude.value.sign) ? magnitude : -magnitude
    }
    @inlinable public init(sign: FloatingPointSign, exponentBitPattern: RawExponent, significandBitPattern: RawSignificand) {
        self.init(Base(sign: sign, exponentBitPattern: exponentBitPattern, significandBitPattern: significandBitPattern))
    }

    @inlinable public static var radix: Int { Base.radix }
    @inlinable public static var nan: Dual { Dual(Base.nan) }
    @inlinable public static var signalingNaN: Dual { Dual(Base.signalingNaN) }
    @inlinable public static var infinity: Dual { Dual(Base.infinity) }
    @inlinable public static var greatestFiniteMagnitude: Dual { Dual(Base.greatestFiniteMagnitude) }
    @inlinable public static var pi: Dual { Dual(Base.pi) }
    @inlinable public static var ulpOfOne: Dual { Dual(Base.ulpOfOne) }
    @inlinable public static var leastNormalMagnitude: Dual { Dual(Base.leastNormalMagnitude) }
    @inlinable public static var leastNonzeroMagnitude: Dual { Dual(Base.leastNonzeroMagnitude) }
    @inlinable public static var exponentBitCount: Int { Base.exponentBitCount }
    @inlinable public static var significandBitCount: Int { Base.significandBitCount }

    @inlinable public var ulp: Dual { Dual(value.ulp) }
    @inlinable public var sign: FloatingPointSign { value.sign }
    @inlinable public var exponent: Exponent { value.exponent }
    /// The value's significand, the tangent scaled by the same power of the radix.
    @inlinable public var significand: Dual {
        Dual(value.significand, tangent: Base(sign: .plus, exponent: -value.exponent, significand: tangent))
    }
    @inlinable public var nextUp: Dual { Dual(value.nextUp) }
    @inlinable public var exponentBitPattern: RawExponent { value.exponentBitPattern }
    @inlinable public var significandBitPattern: RawSignificand { value.significandBitPattern }
    @inlinable public var binade: Dual { Dual(value.binade) }
    @inlinable public var significandWidth: Int { value.significandWidth }
    @inlinable public var isNormal: Bool { value.isNormal }
    @inlinable public var isFinite: Bool { value.isFinite }
    /// Both parts zero: a constant zero (the one member that looks at the tangent).
    @inlinable public var isZero: Bool { value.isZero && tangent.isZero }
    @inlinable public var isSubnormal: Bool { value.isSubnormal }
    @inlinable public var isInfinite: Bool { value.isInfinite }
    @inlinable public var isNaN: Bool { value.isNaN }
    @inlinable public var isSignalingNaN: Bool { value.isSignalingNaN }
    @inlinable public var isCanonical: Bool { value.isCanonical }
}

// MARK: The elementary functions of TensorScalar, each its op's rule

extension Dual {
    @inlinable public static func exp(_ x: Dual) -> Dual { evaluate(ExpRule.self, x, 0) }
    @inlinable public static func log(_ x: Dual) -> Dual { evaluate(LogRule.self, x, 0) }
    @inlinable public static func log1p(_ x: Dual) -> Dual { evaluate(LogOnePlusRule.self, x, 0) }
    @inlinable public static func tanh(_ x: Dual) -> Dual { evaluate(TanhRule.self, x, 0) }
    @inlinable public static func pow(_ x: Dual, _ y: Dual) -> Dual { evaluate(PowerRule.self, x, y) }
    @inlinable public static func expm1(_ x: Dual) -> Dual { evaluate(ExpMinusOneRule.self, x, 0) }
    @inlinable public static func sin(_ x: Dual) -> Dual { evaluate(SineRule.self, x, 0) }
    @inlinable public static func cos(_ x: Dual) -> Dual { evaluate(CosineRule.self, x, 0) }
    @inlinable public static func tan(_ x: Dual) -> Dual { evaluate(TangentRule.self, x, 0) }
    @inlinable public static func asin(_ x: Dual) -> Dual { evaluate(ArcsineRule.self, x, 0) }
    @inlinable public static func acos(_ x: Dual) -> Dual { evaluate(ArccosineRule.self, x, 0) }
    @inlinable public static func atan(_ x: Dual) -> Dual { evaluate(ArctangentRule.self, x, 0) }
    @inlinable public static func atan2(_ y: Dual, _ x: Dual) -> Dual { evaluate(Arctangent2Rule.self, y, x) }
    @inlinable public static func sinh(_ x: Dual) -> Dual { evaluate(HyperbolicSineRule.self, x, 0) }
    @inlinable public static func cosh(_ x: Dual) -> Dual { evaluate(HyperbolicCosineRule.self, x, 0) }

    /// The rule's value at the real part; tangent `Rule.derivative · dx` (0 for dx = 0). A
    /// constant with a tangent of its own (rare: a dual captured as the op's constant) runs
    /// the rule's formula on duals instead, which differentiates the constant too.
    @inlinable @inline(__always)
    public static func evaluate<Rule: UnaryRule>(_: Rule.Type, _ x: Dual, _ c: Dual) -> Dual {
        guard c.tangent.isZero else { return Rule.value(x, c) }
        let y = Base.evaluate(Rule.self, x.value, c.value)
        if x.tangent.isZero { return Dual(y) }
        return Dual(y, tangent: Rule.derivative(x.value, y, c.value) * x.tangent)
    }

    @inlinable
    public static func evaluate<Rule: UnaryRule>(
        _: Rule.Type, _ x: UnsafePointer<Dual>, into y: UnsafeMutablePointer<Dual>, count: Int, _ c: Dual
    ) {
        for i in 0..<count { y[i] = evaluate(Rule.self, x[i], c) }
    }

    /// The rule's value at the real parts; tangent ∂a·da + ∂b·db from `Rule.partials`, each
    /// term only where its tangent is nonzero (a constant exponent never meets log of a
    /// negative base).
    @inlinable @inline(__always)
    public static func evaluate<Rule: BinaryRule>(_: Rule.Type, _ a: Dual, _ b: Dual) -> Dual {
        let y = Base.evaluate(Rule.self, a.value, b.value)
        let (aZero, bZero) = (a.tangent.isZero, b.tangent.isZero)
        if aZero && bZero { return Dual(y) }
        let (da, db) = Rule.partials(a.value, b.value, y)
        if bZero { return Dual(y, tangent: da * a.tangent) }
        if aZero { return Dual(y, tangent: db * b.tangent) }
        return Dual(y, tangent: da * a.tangent + db * b.tangent)
    }

    /// The real part as a constant, every tangent dropped (the real part's own too, when it is
    /// a dual).
    @inlinable
    public var constantPart: Dual { Dual(value.constantPart) }

    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Dual>, into y: UnsafeMutablePointer<Dual>, count: Int) {
        evaluate(SigmoidRule.self, x, into: y, count: count, 0)
    }
    @inlinable
    public static func tanh(_ x: UnsafePointer<Dual>, into y: UnsafeMutablePointer<Dual>, count: Int) {
        evaluate(TanhRule.self, x, into: y, count: count, 0)
    }

    @inlinable
    public static func gemmTile(_ instructionSet: KernelInstructionSet) -> (rows: Int, columns: Int) {
        Base.gemmTile(instructionSet)
    }

    /// C = A·B + beta·C on duals as three products of the base type (values and tangents read
    /// in place through doubled strides): Cᵥ = Aᵥ·Bᵥ, Cₜ = Aᵥ·Bₜ + Aₜ·Bᵥ.
    @inlinable
    public static func gemmKernel(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Dual>, rowStrideA: Int, columnStrideA: Int,
        b: UnsafePointer<Dual>, rowStrideB: Int, columnStrideB: Int,
        c: UnsafeMutablePointer<Dual>, ldc: Int, beta: Dual, wholeRows: Int, wholeColumns: Int,
        instructionSet: KernelInstructionSet
    ) {
        guard m > 0, n > 0 else { return }
        let av = UnsafeRawPointer(a).assumingMemoryBound(to: Base.self)
        let bv = UnsafeRawPointer(b).assumingMemoryBound(to: Base.self)
        // The two real results, on the stack when small (the runtime's temporary allocation).
        withUnsafeTemporaryAllocation(of: Base.self, capacity: 2 * m * n) { buffer in
            let parts = buffer.baseAddress!
            let (cv, ct) = (parts, parts + m * n)
            let (ra, ca, rb, cb) = (2 * rowStrideA, 2 * columnStrideA, 2 * rowStrideB, 2 * columnStrideB)
            Base.gemmKernel(m: m, n: n, k: k, a: av, rowStrideA: ra, columnStrideA: ca,
                            b: bv, rowStrideB: rb, columnStrideB: cb, c: cv, ldc: n, beta: 0, wholeRows: wholeRows, wholeColumns: wholeColumns, instructionSet: instructionSet)
            Base.gemmKernel(m: m, n: n, k: k, a: av, rowStrideA: ra, columnStrideA: ca,
                            b: bv + 1, rowStrideB: rb, columnStrideB: cb, c: ct, ldc: n, beta: 0, wholeRows: wholeRows, wholeColumns: wholeColumns, instructionSet: instructionSet)
            Base.gemmKernel(m: m, n: n, k: k, a: av + 1, rowStrideA: ra, columnStrideA: ca,
                            b: bv, rowStrideB: rb, columnStrideB: cb, c: ct, ldc: n, beta: 1, wholeRows: wholeRows, wholeColumns: wholeColumns, instructionSet: instructionSet)
            for i in 0..<m {
                for j in 0..<n {
                    let product = Dual(cv[i * n + j], tangent: ct[i * n + j])
                    c[i * ldc + j] = beta == 0 ? product : product + beta * c[i * ldc + j]
                }
            }
        }
    }
}
