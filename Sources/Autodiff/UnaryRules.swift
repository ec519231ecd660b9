/// An elementwise function of one input with its derivative beside it: the forward value of
/// each element, and dy/dx from the input, the output and the op's constant.
///
/// The built-in elementwise ops are unary rules that the tape records by a code (see
/// one exhaustive table of codes), so their pullbacks cost no stored closure. A rule of your own is recorded with
/// ``Variable/applying(_:constant:file:line:)`` and gets the same generic pullback through a closure.
public protocol UnaryRule {
    /// y = f(x), with the op's constant `c` (the exponent of `pow`, the alpha of leaky ReLU, …).
    static func value<S: TensorScalar>(_ x: S, _ c: S) -> S
    /// dy/dx at x, given y = f(x).
    static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S
    /// y[i] = value(x[i], c) for `count` elements: a loop over ``value(_:_:)`` unless the rule
    /// has a vector kernel.
    static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S)
    /// gx[i] += g[i]·derivative(x[i], y[i], c) for `count` elements: the pullback's loop, which a
    /// rule may specialise (work that depends only on `c` done once).
    static func accumulateDerivative<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ y: UnsafePointer<S>, into gx: UnsafeMutablePointer<S>,
        count: Int, _ c: S)
}

extension UnaryRule {
    @inlinable @inline(__always)
    public static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        for i in 0..<count { y[i] = value(x[i], c) }
    }

    @inlinable @inline(__always)
    public static func accumulateDerivative<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ y: UnsafePointer<S>, into gx: UnsafeMutablePointer<S>,
        count: Int, _ c: S
    ) {
        for i in 0..<count { gx[i] += g[i] * derivative(x[i], y[i], c) }
    }
}

// The built-in rules. Each is one declaration: value and derivative side by side; its code and
// its line in ``RuleTable`` make the tape find it.

/// x + c. dy/dx = 1.
@usableFromInline enum AddConstantRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .addConstant }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x + c }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 }
}
/// c - x. dy/dx = -1.
@usableFromInline enum SubtractFromConstantRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .subtractFromConstant }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { c - x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -1 }
}
/// c·x. dy/dx = c.
@usableFromInline enum MultiplyByConstantRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .multiplyByConstant }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x * c }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { c }
}
/// c/x. dy/dx = -c/x² = -y/x.
@usableFromInline enum DivideConstantRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .divideConstant }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { c / x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -y / x }
}
/// max(x, c), NaN kept. dy/dx = 1 where x ≥ c, 0 where x < c, NaN at NaN.
@usableFromInline enum ClampBelowRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .clampBelow }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x < c ? c : x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x < c ? 0 : (x.isNaN ? x : 1) }
}
/// min(x, c), NaN kept. dy/dx = 1 where x ≤ c, 0 where x > c, NaN at NaN.
@usableFromInline enum ClampAboveRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .clampAbove }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x > c ? c : x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x > c ? 0 : (x.isNaN ? x : 1) }
}
/// -x. dy/dx = -1.
@usableFromInline enum NegateRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .negate }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { -x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -1 }
}
/// x². dy/dx = 2x.
@usableFromInline enum SquareRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .square }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x * x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 2 * x }
}
/// |x|. dy/dx = sign(x): 0 at 0 (the subgradient nearest zero), NaN at NaN.
@usableFromInline enum AbsoluteValueRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .absoluteValue }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { Swift.abs(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S {
        x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
    }
}
/// e^x. dy/dx = e^x = y.
@usableFromInline enum ExpRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .exp }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.exp(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { y }
}
/// e^x - 1. dy/dx = e^x = y + 1.
@usableFromInline enum ExpMinusOneRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .expMinusOne }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.expm1(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { y + 1 }
}
/// ln x. dy/dx = 1/x.
@usableFromInline enum LogRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .log }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.log(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / x }
}
/// ln(1 + x). dy/dx = 1/(1 + x).
@usableFromInline enum LogOnePlusRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .logOnePlus }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.log1p(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / (1 + x) }
}
/// √x. dy/dx = 1/(2√x) = 1/(2y): +∞ at 0.
@usableFromInline enum SquareRootRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .squareRoot }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x.squareRoot() }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / (2 * y) }
}
/// √x of a sum of squares (the standard deviation's root). dy/dx = 1/(2y), and 0 at x = 0:
/// there the sum of squares is at its minimum and its own gradient is 0, so the chain's
/// product is taken as 0 instead of ∞·0 = NaN (PyTorch's `std` does the same).
@usableFromInline enum RootOfSquaresRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .rootOfSquares }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x.squareRoot() }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { y == 0 ? 0 : 1 / (2 * y) }
}
/// x^c for a constant c (integer c by repeated multiplication). dy/dx = c·x^(c-1), 0 for c = 0.
@usableFromInline enum PowerConstantRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .powerConstant }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { ScalarMath.power(x, c) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S {
        c == 0 ? 0 : c * ScalarMath.power(x, c - 1)
    }
    @inlinable
    static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        guard let n = ScalarMath.integerExponent(c) else {
            for i in 0..<count { y[i] = S.pow(x[i], c) }
            return
        }
        ScalarMath.integerPowers(x, n, into: y, count: count)
    }
    @inlinable
    static func accumulateDerivative<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ y: UnsafePointer<S>, into gx: UnsafeMutablePointer<S>,
        count: Int, _ c: S
    ) {
        if c == 0 { return }
        guard let n = ScalarMath.integerExponent(c - 1) else {
            for i in 0..<count { gx[i] += g[i] * (c * S.pow(x[i], c - 1)) }
            return
        }
        // x^(n) a block at a time into a buffer on the stack, then one fused pass.
        withUnsafeTemporaryAllocation(of: S.self, capacity: 256) { buffer in
            let t = buffer.baseAddress!
            var start = 0
            while start < count {
                let length = Swift.min(256, count &- start)
                ScalarMath.integerPowers(x + start, n, into: t, count: length)
                let (gs, gxs) = (g + start, gx + start)
                for i in 0..<length { gxs[i] += gs[i] * (c * t[i]) }
                start &+= length
            }
        }
    }
}
/// sin x. dy/dx = cos x.
@usableFromInline enum SineRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .sine }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.sin(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { S.cos(x) }
}
/// cos x. dy/dx = -sin x.
@usableFromInline enum CosineRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .cosine }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.cos(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -S.sin(x) }
}
/// tan x. dy/dx = 1 + tan²x = 1 + y².
@usableFromInline enum TangentRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .tangent }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.tan(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 + y * y }
}
/// arcsin x. dy/dx = 1/√(1 - x²).
@usableFromInline enum ArcsineRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .arcsine }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.asin(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / (1 - x * x).squareRoot() }
}
/// arccos x. dy/dx = -1/√(1 - x²).
@usableFromInline enum ArccosineRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .arccosine }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.acos(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -1 / (1 - x * x).squareRoot() }
}
/// arctan x. dy/dx = 1/(1 + x²).
@usableFromInline enum ArctangentRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .arctangent }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.atan(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / (1 + x * x) }
}
/// sinh x. dy/dx = cosh x.
@usableFromInline enum HyperbolicSineRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .hyperbolicSine }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.sinh(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { S.cosh(x) }
}
/// cosh x. dy/dx = sinh x.
@usableFromInline enum HyperbolicCosineRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .hyperbolicCosine }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.cosh(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { S.sinh(x) }
}
/// tanh x. dy/dx = 1 - y².
@usableFromInline enum TanhRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .tanh }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.tanh(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 - y * y }
    @inlinable
    static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        S.tanh(x, into: y, count: count)
    }
}
/// 1/(1+e^-x), without overflow. dy/dx = y(1-y).
@usableFromInline enum SigmoidRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .sigmoid }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { ScalarMath.sigmoid(x) }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { y * (1 - y) }
    @inlinable
    static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        S.sigmoid(x, into: y, count: count)
    }
}
/// ln(1 + e^x), without overflow. dy/dx = sigmoid(x).
@usableFromInline enum SoftplusRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .softplus }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S {
        x > 0 ? x + S.log1p(S.exp(-x)) : S.log1p(S.exp(x))
    }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { ScalarMath.sigmoid(x) }
}
/// max(x, 0), NaN kept. dy/dx = 1 where x > 0, 0 where x ≤ 0 (0 at the kink), NaN at NaN.
@usableFromInline enum ReluRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .relu }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x <= 0 ? 0 : x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x > 0 ? 1 : (x.isNaN ? x : 0) }
}
/// x where x > 0, else c·x; NaN kept. dy/dx = 1 where x > 0, c where x ≤ 0, NaN at NaN.
@usableFromInline enum LeakyReluRule: UnaryRule, CodedRule {
    @inlinable static var code: RuleCode { .leakyRelu }
    @inlinable static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x <= 0 ? c * x : x }
    @inlinable static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x > 0 ? 1 : (x.isNaN ? x : c) }
}

/// Scalar functions shared by ops and kernels.
public enum ScalarMath {
    /// 1/(1+e^-x) without overflow for large |x|.
    @inlinable @inline(__always)
    public static func sigmoid<S: TensorScalar>(_ x: S) -> S {
        if x >= 0 { return 1 / (1 + S.exp(-x)) }
        let e = S.exp(x)
        return e / (1 + e)
    }

    /// x^p: by repeated squaring when p is an integer of magnitude up to 1024 (`pow(x, 12)` is
    /// four multiplications, not two calls of libm's `pow`), else `S.pow`. x^0 = 1 for every x.
    @inlinable @inline(__always)
    public static func power<S: TensorScalar>(_ x: S, _ p: S) -> S {
        guard let n = integerExponent(p) else { return S.pow(x, p) }
        return integerPower(x, n)
    }

    /// p as an integer when it is one of magnitude up to 1024, else nil.
    @inlinable @inline(__always)
    static func integerExponent<S: TensorScalar>(_ p: S) -> Int? {
        guard p == p.rounded(.towardZero) && Swift.abs(p) <= 1024 else { return nil }
        // Concrete conversions: the generic Int(_:) costs more than the power itself.
        if let d = p as? Double { return Int(d) }
        if let f = p as? Float { return Int(f) }
        return Int(p)
    }

    /// y[i] = x[i]^n, the products of ``integerPower(_:_:)`` in whole passes over the buffer
    /// (each a vectorised loop).
    @inlinable
    static func integerPowers<S: TensorScalar>(_ x: UnsafePointer<S>, _ n: Int, into y: UnsafeMutablePointer<S>, count: Int) {
        let m = n < 0 ? -n : n
        if m == 0 {
            y.update(repeating: 1, count: count)
            return
        }
        var bit = Int.bitWidth - 1 - m.leadingZeroBitCount
        y.update(from: x, count: count)
        while bit > 0 {
            bit -= 1
            if m >> bit & 1 == 1 {
                for i in 0..<count { y[i] = y[i] * y[i] * x[i] }
            } else {
                for i in 0..<count { y[i] *= y[i] }
            }
        }
        if n < 0 { for i in 0..<count { y[i] = 1 / y[i] } }
    }

    /// x^n by repeated squaring, left to right over the bits of |n| (a reciprocal for negative
    /// n): the same products, in the same order, as ``integerPowers(_:_:into:count:)``.
    @inlinable @inline(__always)
    static func integerPower<S: TensorScalar>(_ x: S, _ n: Int) -> S {
        let m = n < 0 ? -n : n
        if m == 0 { return 1 }
        var bit = Int.bitWidth - 1 - m.leadingZeroBitCount
        var y = x
        while bit > 0 {
            bit -= 1
            y = m >> bit & 1 == 1 ? y * y * x : y * y
        }
        return n < 0 ? 1 / y : y
    }
}
