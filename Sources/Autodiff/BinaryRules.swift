/// An elementwise function of two inputs, applied with numpy broadcasting: the value only (the
/// comparisons behind masks, and the forward half of every ``BinaryRule``).
public protocol BinaryFunction {
    /// y = f(a, b) for one pair of elements.
    static func value<S: TensorScalar>(_ a: S, _ b: S) -> S
}

/// A differentiable elementwise function of two inputs: its value and both partial derivatives
/// side by side. One broadcasting pullback serves every binary rule: ∂a += Σ g·∂f/∂a and
/// ∂b += Σ g·∂f/∂b, each summed over the axes along which its operand was broadcast.
///
/// The built-in binary ops are rules recorded by code (one exhaustive table maps the codes to the rules); a rule of your own is
/// recorded with ``Variable/applying(_:_:_:)`` and broadcasts the same way.
public protocol BinaryRule: BinaryFunction {
    /// (∂y/∂a, ∂y/∂b) at (a, b), given y = f(a, b).
    static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S)
}

/// a + b. ∂a = 1, ∂b = 1.
@usableFromInline enum AddRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .add }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a + b }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1, 1) }
}
/// a - b. ∂a = 1, ∂b = -1.
@usableFromInline enum SubtractRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .subtract }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a - b }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1, -1) }
}
/// a·b. ∂a = b, ∂b = a.
@usableFromInline enum MultiplyRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .multiply }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (b, a) }
}
/// a/b. ∂a = 1/b, ∂b = -a/b² = -y/b.
@usableFromInline enum DivideRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .divide }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a / b }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (1 / b, -y / b) }
}
/// a^b. ∂a = b·a^(b-1) (0 where b = 0), ∂b = y·ln a (0 where a = 0 and b ≥ 0), as in PyTorch.
@usableFromInline enum PowerRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .power }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { S.pow(a, b) }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        (b == 0 ? 0 : b * S.pow(a, b - 1), a == 0 && b >= 0 ? 0 : y * S.log(a))
    }
}
/// atan2(a, b), the angle of the point (x: b, y: a). ∂a = b/(a² + b²), ∂b = -a/(a² + b²),
/// computed on the point scaled by max(|a|, |b|) so that neither a² + b² underflows nor
/// overflows (as `hypot` does); 0 for both at the origin, where atan2 jumps, and at an
/// infinite operand.
@usableFromInline enum Arctangent2Rule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .arctangent2 }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { S.atan2(a, b) }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        let scale = Swift.max(Swift.abs(a), Swift.abs(b))
        if scale == 0 || scale.isInfinite { return a.isNaN || b.isNaN ? (S.nan, S.nan) : (0, 0) }
        let (u, v) = (a / scale, b / scale)
        let r2 = (u * u + v * v) * scale
        return (v / r2, -u / r2)
    }
}
/// max(a, b), NaN if either is NaN. ∂ = 1 to the larger, ½ each on a tie (as in PyTorch);
/// NaN to a NaN operand and 0 to the other.
@usableFromInline enum MaximumRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .maximum }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a > b || a.isNaN ? a : b }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        a > b ? (1, 0) : (a < b ? (0, 1) : (a == b ? (0.5, 0.5) : (a.isNaN ? a : 0, b.isNaN ? b : 0)))
    }
}
/// min(a, b), NaN if either is NaN. ∂ = 1 to the smaller, ½ each on a tie; NaN to a NaN
/// operand and 0 to the other.
@usableFromInline enum MinimumRule: BinaryRule, CodedRule {
    @inlinable static var code: RuleCode { .minimum }
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a < b || a.isNaN ? a : b }
    @inlinable static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) {
        a < b ? (1, 0) : (a > b ? (0, 1) : (a == b ? (0.5, 0.5) : (a.isNaN ? a : 0, b.isNaN ? b : 0)))
    }
}

// Comparisons: 1 where the relation holds, else 0 (NaN compares false, except in `!=`).

/// 1 where a > b.
@usableFromInline enum GreaterFunction: BinaryFunction {
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a > b ? 1 : 0 }
}
/// 1 where a < b.
@usableFromInline enum LessFunction: BinaryFunction {
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a < b ? 1 : 0 }
}
/// 1 where a ≥ b.
@usableFromInline enum GreaterOrEqualFunction: BinaryFunction {
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a >= b ? 1 : 0 }
}
/// 1 where a ≤ b.
@usableFromInline enum LessOrEqualFunction: BinaryFunction {
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a <= b ? 1 : 0 }
}
/// 1 where a = b.
@usableFromInline enum EqualFunction: BinaryFunction {
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a == b ? 1 : 0 }
}
/// 1 where a ≠ b.
@usableFromInline enum NotEqualFunction: BinaryFunction {
    @inlinable static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a != b ? 1 : 0 }
}
