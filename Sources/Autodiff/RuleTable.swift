/// How a tape entry finds its pullback: a built-in rule by code, a stored closure, or nothing.
/// Adding an elementwise op is one rule, one case here, one line in ``RuleTable/dispatch(_:to:)``
/// and one public function; the tests enumerate every case.
@usableFromInline
enum RuleCode: UInt8, Sendable, CaseIterable {
    /// No pullback: a leaf, or an op whose inputs need no gradient.
    case none = 0
    /// The op stored a pullback closure (``Tape/record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)``).
    case storedClosure
    // Binary rules.
    case add, subtract, multiply, divide, power, arctangent2, maximum, minimum
    // Unary rules (the constant-operand forms of the arithmetic among them).
    case addConstant, subtractFromConstant, multiplyByConstant, divideConstant, clampBelow, clampAbove
    case negate, square, absoluteValue, exp, expMinusOne, log, logOnePlus, squareRoot, rootOfSquares, powerConstant
    case sine, cosine, tangent, arcsine, arccosine, arctangent, hyperbolicSine, hyperbolicCosine
    case tanh, sigmoid, softplus, relu, leakyRelu
}

/// What to do with the rule behind a code: the scalar and the tensor pullbacks (and the tests)
/// are visitors, so the one switch below serves them all.
@usableFromInline
protocol RuleVisitor {
    associatedtype Result
    /// The code is a unary rule.
    func unary<Rule: UnaryRule>(_: Rule.Type) -> Result
    /// The code is a binary rule.
    func binary<Rule: BinaryRule>(_: Rule.Type) -> Result
    /// The code names no rule (`.none`, `.storedClosure`).
    func noRule() -> Result
}

/// The one table from codes to rules: exhaustive, with no `default`, so a code without a rule
/// does not compile.
@usableFromInline
enum RuleTable {
    @inlinable @inline(__always)
    static func dispatch<V: RuleVisitor>(_ code: RuleCode, to visitor: V) -> V.Result {
        switch code {
        case .none, .storedClosure: visitor.noRule()
        case .add: visitor.binary(AddRule.self)
        case .subtract: visitor.binary(SubtractRule.self)
        case .multiply: visitor.binary(MultiplyRule.self)
        case .divide: visitor.binary(DivideRule.self)
        case .power: visitor.binary(PowerRule.self)
        case .arctangent2: visitor.binary(Arctangent2Rule.self)
        case .maximum: visitor.binary(MaximumRule.self)
        case .minimum: visitor.binary(MinimumRule.self)
        case .addConstant: visitor.unary(AddConstantRule.self)
        case .subtractFromConstant: visitor.unary(SubtractFromConstantRule.self)
        case .multiplyByConstant: visitor.unary(MultiplyByConstantRule.self)
        case .divideConstant: visitor.unary(DivideConstantRule.self)
        case .clampBelow: visitor.unary(ClampBelowRule.self)
        case .clampAbove: visitor.unary(ClampAboveRule.self)
        case .negate: visitor.unary(NegateRule.self)
        case .square: visitor.unary(SquareRule.self)
        case .absoluteValue: visitor.unary(AbsoluteValueRule.self)
        case .exp: visitor.unary(ExpRule.self)
        case .expMinusOne: visitor.unary(ExpMinusOneRule.self)
        case .log: visitor.unary(LogRule.self)
        case .logOnePlus: visitor.unary(LogOnePlusRule.self)
        case .squareRoot: visitor.unary(SquareRootRule.self)
        case .rootOfSquares: visitor.unary(RootOfSquaresRule.self)
        case .powerConstant: visitor.unary(PowerConstantRule.self)
        case .sine: visitor.unary(SineRule.self)
        case .cosine: visitor.unary(CosineRule.self)
        case .tangent: visitor.unary(TangentRule.self)
        case .arcsine: visitor.unary(ArcsineRule.self)
        case .arccosine: visitor.unary(ArccosineRule.self)
        case .arctangent: visitor.unary(ArctangentRule.self)
        case .hyperbolicSine: visitor.unary(HyperbolicSineRule.self)
        case .hyperbolicCosine: visitor.unary(HyperbolicCosineRule.self)
        case .tanh: visitor.unary(TanhRule.self)
        case .sigmoid: visitor.unary(SigmoidRule.self)
        case .softplus: visitor.unary(SoftplusRule.self)
        case .relu: visitor.unary(ReluRule.self)
        case .leakyRelu: visitor.unary(LeakyReluRule.self)
        }
    }
}

/// The code of a built-in rule, declared in the rule (an internal refinement, so that user
/// rules need none).
@usableFromInline
protocol CodedRule {
    static var code: RuleCode { get }
}
