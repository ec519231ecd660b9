/// An elementwise function of one input with its derivative beside it: the forward value of
/// each element, and dy/dx from the input, the output and the op's constant. Built-in
/// elementwise ops are rules; the tape records a rule by its code, so their pullbacks cost no
/// stored closure (see ``BuiltinPullback``).
public protocol ElementwiseRule {
    /// How the tape finds this rule's pullback.
    static var code: BuiltinPullback { get }
    /// y = f(x), with the op's constant `c` (the exponent of `pow`, the alpha of leaky ReLU, …).
    static func value<S: TensorScalar>(_ x: S, _ c: S) -> S
    /// dy/dx at x, given y = f(x).
    static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S
    /// y[i] = value(x[i], c) for `count` elements: a loop over ``value(_:_:)`` unless the rule
    /// has a vector kernel.
    static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S)
}

extension ElementwiseRule {
    @inlinable @inline(__always)
    public static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        for i in 0..<count { y[i] = value(x[i], c) }
    }
}

/// x + c. dy/dx = 1.
public enum AddConstantRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .addConstant }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x + c }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 }
}
/// c - x. dy/dx = -1.
public enum SubtractFromConstantRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .subtractFromConstant }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { c - x }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -1 }
}
/// c·x. dy/dx = c.
public enum MultiplyByConstantRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .multiplyByConstant }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x * c }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { c }
}
/// c/x. dy/dx = -c/x² = -y/x.
public enum DivideConstantRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .divideConstant }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { c / x }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -y / x }
}
/// -x. dy/dx = -1.
public enum NegateRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .negate }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { -x }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { -1 }
}
/// x². dy/dx = 2x.
public enum SquareRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .square }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x * x }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 2 * x }
}
/// |x|. dy/dx = sign(x), 0 at 0.
public enum AbsoluteValueRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .absoluteValue }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { Swift.abs(x) }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}
/// e^x. dy/dx = e^x = y.
public enum ExpRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .exp }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.exp(x) }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { y }
}
/// ln x. dy/dx = 1/x.
public enum LogRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .log }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.log(x) }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / x }
}
/// √x. dy/dx = 1/(2√x) = 1/(2y).
public enum SquareRootRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .squareRoot }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x.squareRoot() }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 / (2 * y) }
}
/// x^c for a constant c. dy/dx = c·x^(c-1).
public enum PowerRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .power }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.pow(x, c) }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { c * S.pow(x, c - 1) }
}
/// tanh x. dy/dx = 1 - y².
public enum TanhRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .tanh }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { S.tanh(x) }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 1 - y * y }
    @inlinable
    public static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        S.tanh(x, into: y, count: count)
    }
}
/// 1/(1+e^-x), without overflow. dy/dx = y(1-y).
public enum SigmoidRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .sigmoid }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { ScalarMath.sigmoid(x) }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { y * (1 - y) }
    @inlinable
    public static func values<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int, _ c: S) {
        S.sigmoid(x, into: y, count: count)
    }
}
/// max(x, 0). dy/dx = 1 where x > 0, else 0.
public enum ReluRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .relu }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x > 0 ? x : 0 }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x > 0 ? 1 : 0 }
}
/// x where x > 0, else c·x. dy/dx = 1 or c.
public enum LeakyReluRule: ElementwiseRule {
    @inlinable public static var code: BuiltinPullback { .leakyRelu }
    @inlinable public static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x > 0 ? x : c * x }
    @inlinable public static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { x > 0 ? 1 : c }
}

/// The pullbacks the tape runs without a stored closure, by code: the elementwise rules and the
/// four broadcasting arithmetic ops. Any other op (and any op of yours) records a closure.
public enum BuiltinPullback: UInt8, Sendable {
    /// No pullback: a leaf, or an op whose inputs need no gradient.
    case none = 0
    /// The op stored a pullback closure (``Tape/record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)``).
    case storedClosure
    case add, subtract, multiply, divide
    case addConstant, subtractFromConstant, multiplyByConstant, divideConstant, negate
    case square, absoluteValue, exp, log, squareRoot, power, tanh, sigmoid, relu, leakyRelu

    /// Runs this pullback for a rank-0 op on rank-0 inputs (``TapeEntry/isScalarOp``): the same
    /// derivatives as ``run(_:)``, on single slots, without building contexts.
    @inlinable @inline(__always)
    func runScalar<S: TensorScalar>(
        _ entry: TapeEntry<S>, entries: UnsafeMutablePointer<TapeEntry<S>>, values: UnsafeMutablePointer<S>,
        gradients: UnsafeMutablePointer<S>, last: inout LastGradient<S>
    ) {
        let g = last.read(entry.valueOffset, gradients)
        let a = entries[Int(entry.inputs.0)]
        let x = values[a.valueOffset]
        let y = values[entry.valueOffset]
        switch self {
        case .add, .subtract, .multiply, .divide:
            let b = entries[Int(entry.inputs.1)]
            let z = values[b.valueOffset]
            let ga: S, gb: S
            switch self {
            case .add: (ga, gb) = (g, g)
            case .subtract: (ga, gb) = (g, -g)
            case .multiply: (ga, gb) = (g * z, g * x)
            default: (ga, gb) = (g / z, -(g * y) / z)
            }
            if a.requiresGradient { last.add(ga, at: a.valueOffset, gradients) }
            if b.requiresGradient { last.add(gb, at: b.valueOffset, gradients) }
            return
        default: break
        }
        guard a.requiresGradient else { return }
        let c = entry.auxScalar
        let d: S
        switch self {
        case .addConstant: d = AddConstantRule.derivative(x, y, c)
        case .subtractFromConstant: d = SubtractFromConstantRule.derivative(x, y, c)
        case .multiplyByConstant: d = MultiplyByConstantRule.derivative(x, y, c)
        case .divideConstant: d = DivideConstantRule.derivative(x, y, c)
        case .negate: d = NegateRule.derivative(x, y, c)
        case .square: d = SquareRule.derivative(x, y, c)
        case .absoluteValue: d = AbsoluteValueRule.derivative(x, y, c)
        case .exp: d = ExpRule.derivative(x, y, c)
        case .log: d = LogRule.derivative(x, y, c)
        case .squareRoot: d = SquareRootRule.derivative(x, y, c)
        case .power: d = PowerRule.derivative(x, y, c)
        case .tanh: d = TanhRule.derivative(x, y, c)
        case .sigmoid: d = SigmoidRule.derivative(x, y, c)
        case .relu: d = ReluRule.derivative(x, y, c)
        case .leakyRelu: d = LeakyReluRule.derivative(x, y, c)
        case .none, .storedClosure, .add, .subtract, .multiply, .divide: return
        }
        last.add(g * d, at: a.valueOffset, gradients)
    }

    /// Runs this pullback for the op in `ctx`.
    @inlinable @inline(__always)
    func run<S: TensorScalar>(_ ctx: OpContext<S>) {
        switch self {
        case .none, .storedClosure: break
        case .add: Variable<S>.addPullback(ctx)
        case .subtract: Variable<S>.subtractPullback(ctx)
        case .multiply: Variable<S>.multiplyPullback(ctx)
        case .divide: Variable<S>.dividePullback(ctx)
        case .addConstant: ctx.accumulateElementwise(AddConstantRule.self)
        case .subtractFromConstant: ctx.accumulateElementwise(SubtractFromConstantRule.self)
        case .multiplyByConstant: ctx.accumulateElementwise(MultiplyByConstantRule.self)
        case .divideConstant: ctx.accumulateElementwise(DivideConstantRule.self)
        case .negate: ctx.accumulateElementwise(NegateRule.self)
        case .square: ctx.accumulateElementwise(SquareRule.self)
        case .absoluteValue: ctx.accumulateElementwise(AbsoluteValueRule.self)
        case .exp: ctx.accumulateElementwise(ExpRule.self)
        case .log: ctx.accumulateElementwise(LogRule.self)
        case .squareRoot: ctx.accumulateElementwise(SquareRootRule.self)
        case .power: ctx.accumulateElementwise(PowerRule.self)
        case .tanh: ctx.accumulateElementwise(TanhRule.self)
        case .sigmoid: ctx.accumulateElementwise(SigmoidRule.self)
        case .relu: ctx.accumulateElementwise(ReluRule.self)
        case .leakyRelu: ctx.accumulateElementwise(LeakyReluRule.self)
        }
    }
}

/// The gradient slot written last in a backward pass, kept in a register: in scalar code the
/// next entry is usually the input just written, and reading it back from memory would wait
/// for the store on every op of the chain.
@usableFromInline
struct LastGradient<S: TensorScalar> {
    @usableFromInline var slot = -1
    @usableFromInline var value: S = 0

    @inlinable init() {}

    /// The gradient in `slot`.
    @inlinable @inline(__always)
    func read(_ slot: Int, _ gradients: UnsafeMutablePointer<S>) -> S {
        slot == self.slot ? value : gradients[slot]
    }

    /// `gradients[slot] += delta`, remembered as the last write.
    @inlinable @inline(__always)
    mutating func add(_ delta: S, at slot: Int, _ gradients: UnsafeMutablePointer<S>) {
        let sum = read(slot, gradients) + delta
        gradients[slot] = sum
        (self.slot, value) = (slot, sum)
    }

    /// Forgets the last write (after code that writes gradients without telling).
    @inlinable @inline(__always)
    mutating func forget() { slot = -1 }
}
