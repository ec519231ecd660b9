extension Variable {
    /// Records the built-in unary `rule` (value and derivative side by side); the tape finds its
    /// pullback by the rule's code. A rank-0 operand takes the lean scalar path, inlined into
    /// the caller; tensors take ``elementwiseOnTensor(_:_:constant:)``.
    @inlinable @inline(__always)
    func elementwise<Rule: UnaryRule & CodedRule>(_ op: StaticString, _: Rule.Type, constant: Scalar = 0) -> Variable {
        checkUsable(op)
        if let x = scalarValue {
            return Variable.recordScalar(Scalar.evaluate(Rule.self, x, constant), self, auxScalar: constant, rule: Rule.code)
        }
        return elementwiseOnTensor(op, Rule.self, constant: constant)
    }

    /// The value of a usable variable when it is rank 0 (a scalar), else nil.
    @inlinable @inline(__always)
    var scalarValue: Scalar? {
        let entry = storage.pointee.entries[Int(index)]
        return entry.rank == 0 ? storage.pointee.values[entry.valueOffset] : nil
    }

    /// Records the rank-0 result `value` of the built-in `rule` applied to the usable rank-0
    /// inputs `a` (and `b`, on the same tape): the lean path of scalar code such as example-sqrt.
    @inlinable @inline(__always)
    static func recordScalar(
        _ value: Scalar, _ a: Variable, _ b: Variable? = nil, auxScalar: Scalar = 0, rule: RuleCode
    ) -> Variable {
        let s = a.storage
        var needsGradient = s.pointee.entries[Int(a.index)].requiresGradient
        var inputs: (Int32, Int32, Int32) = (a.index, -1, -1)
        if let b {
            needsGradient = needsGradient || s.pointee.entries[Int(b.index)].requiresGradient
            inputs.1 = b.index
        }
        let index = s.pointee.appendScalar(
            value, inputs: inputs, requiresGradient: needsGradient && s.pointee.recording,
            auxScalar: auxScalar, rule: rule)
        if s.pointee.anomalyDetection != .off { s.pointee.checkForward(index) }
        return Variable(storage: s, index: index, generation: s.pointee.generation)
    }

    /// The general path of ``elementwise(_:_:constant:)``, kept out of line so that the scalar
    /// path stays small enough to inline.
    @inlinable @inline(never)
    func elementwiseOnTensor<Rule: UnaryRule & CodedRule>(_ op: StaticString, _: Rule.Type, constant: Scalar) -> Variable {
        tape.record(op, shapeOfFirstInput: self, auxScalar: constant, rule: Rule.code) { $0.evaluateUnary(Rule.self) }
    }

    /// Applies a unary rule of your own elementwise, with the op's constant `c`: the value from
    /// ``UnaryRule/value(_:_:)``, the gradient g·``UnaryRule/derivative(_:_:_:)`` (recorded with
    /// a closure; the built-in rules are recorded by code).
    @inlinable
    public func applying<Rule: UnaryRule>(_: Rule.Type, constant c: Scalar = 0, file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) {
        tape.record("applying", shape: shape, self, auxScalar: c, kernel: UnaryRuleForward<Rule>.self,
                    pullback: { ctx in ctx.accumulateUnary(Rule.self) })
    } }

    /// Records the built-in binary `rule` with numpy broadcasting: the lean scalar path for two
    /// rank-0 operands, else ``broadcastingOnTensors(_:_:_:_:)``.
    @inlinable @inline(__always)
    static func broadcasting<Rule: BinaryRule & CodedRule>(
        _ op: StaticString, _: Rule.Type, _ lhs: Variable, _ rhs: Variable
    ) -> Variable {
        lhs.checkUsable(op)
        if !lhs.isOnSameTape(as: rhs) { rhs.checkTapeExists(op); Variable.onAnotherTape(op) }
        rhs.checkUsable(op)
        if let a = lhs.scalarValue, let b = rhs.scalarValue {
            return Variable.recordScalar(Scalar.evaluate(Rule.self, a, b), lhs, rhs, rule: Rule.code)
        }
        return broadcastingOnTensors(op, Rule.self, lhs, rhs)
    }

    /// The general path of ``broadcasting(_:_:_:_:)``, out of line.
    @inlinable @inline(never)
    static func broadcastingOnTensors<Rule: BinaryRule & CodedRule>(
        _ op: StaticString, _: Rule.Type, _ lhs: Variable, _ rhs: Variable
    ) -> Variable {
        let tape = lhs.tape
        let forward: (OpContext<Scalar>) -> Void = { $0.evaluateBinary(Rule.self) }
        if tape.storage.pointee.sameShape(Int(lhs.index), Int(rhs.index)) {
            return tape.record(op, shapeOfFirstInput: lhs, rhs, rule: Rule.code, forward: forward)
        }
        let shape = ShapeMath.broadcast(lhs.shape, rhs.shape, op: op)
        return tape.record(op, shape: shape, lhs, rhs, rule: Rule.code, forward: forward)
    }

    /// Applies a binary rule of your own elementwise with numpy broadcasting: the value from
    /// ``BinaryFunction/value(_:_:)``, the gradients g·∂f/∂a and g·∂f/∂b from
    /// ``BinaryRule/partials(_:_:_:)``, summed over broadcast axes (recorded with a closure).
    @inlinable
    public static func applying<Rule: BinaryRule>(_: Rule.Type, _ lhs: Variable, _ rhs: Variable) -> Variable {
        let shape = ShapeMath.broadcast(lhs.shape, rhs.shape, op: "applying")
        return lhs.tape.record("applying", shape: shape, lhs, rhs, kernel: BinaryRuleForward<Rule>.self,
                               pullback: { ctx in ctx.accumulateBinary(Rule.self) })
    }

    /// `value` recorded as a constant on this variable's tape (the other operand of a mixed op).
    @inlinable
    func constantOnTape(_ value: Tensor<Scalar>) -> Variable { tape.constant(value) }
    @inlinable
    func constantOnTape(_ value: Scalar) -> Variable { tape.constant(value) }

    // MARK: Between variables (numpy broadcasting)

    /// Elementwise sum. ∂/∂a = ∂/∂b = 1 (summed over broadcast axes).
    @inlinable @inline(__always)
    public static func + (lhs: Variable, rhs: Variable) -> Variable { broadcasting("add", AddRule.self, lhs, rhs) }
    /// Elementwise difference. ∂/∂a = 1, ∂/∂b = -1.
    @inlinable @inline(__always)
    public static func - (lhs: Variable, rhs: Variable) -> Variable { broadcasting("subtract", SubtractRule.self, lhs, rhs) }
    /// Elementwise product. ∂/∂a = b, ∂/∂b = a.
    @inlinable @inline(__always)
    public static func * (lhs: Variable, rhs: Variable) -> Variable { broadcasting("multiply", MultiplyRule.self, lhs, rhs) }
    /// Elementwise quotient. ∂/∂a = 1/b, ∂/∂b = -a/b² = -y/b.
    @inlinable @inline(__always)
    public static func / (lhs: Variable, rhs: Variable) -> Variable { broadcasting("divide", DivideRule.self, lhs, rhs) }

    // MARK: With a tensor on either side (a constant)

    /// Elementwise sum with a constant tensor (broadcasting). ∂/∂x = 1.
    @inlinable public static func + (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs + lhs.constantOnTape(rhs) }
    /// Elementwise sum with a constant tensor (broadcasting). ∂/∂x = 1.
    @inlinable public static func + (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) + rhs }
    /// Elementwise difference with a constant tensor (broadcasting). ∂/∂x = 1.
    @inlinable public static func - (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs - lhs.constantOnTape(rhs) }
    /// A constant tensor minus the variable (broadcasting). ∂/∂x = -1.
    @inlinable public static func - (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) - rhs }
    /// Elementwise product with a constant tensor (broadcasting). ∂/∂x = t.
    @inlinable public static func * (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs * lhs.constantOnTape(rhs) }
    /// Elementwise product with a constant tensor (broadcasting). ∂/∂x = t.
    @inlinable public static func * (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) * rhs }
    /// Elementwise quotient by a constant tensor (broadcasting). ∂/∂x = 1/t.
    @inlinable public static func / (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs / lhs.constantOnTape(rhs) }
    /// A constant tensor divided by the variable (broadcasting). ∂/∂x = -t/x².
    @inlinable public static func / (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) / rhs }

    // MARK: With a scalar on either side

    /// Adds a constant. ∂/∂x = 1.
    @inlinable @inline(__always)
    public static func + (lhs: Variable, rhs: Scalar) -> Variable {
        lhs.elementwise("add", AddConstantRule.self, constant: rhs)
    }
    /// Adds a constant. ∂/∂x = 1.
    @inlinable @inline(__always) public static func + (lhs: Scalar, rhs: Variable) -> Variable { rhs + lhs }
    /// Subtracts a constant. ∂/∂x = 1.
    @inlinable @inline(__always) public static func - (lhs: Variable, rhs: Scalar) -> Variable { lhs + (-rhs) }
    /// A constant minus the variable. ∂/∂x = -1.
    @inlinable @inline(__always)
    public static func - (lhs: Scalar, rhs: Variable) -> Variable {
        rhs.elementwise("subtract", SubtractFromConstantRule.self, constant: lhs)
    }
    /// Multiplies by a constant. ∂/∂x = c.
    @inlinable @inline(__always)
    public static func * (lhs: Variable, rhs: Scalar) -> Variable {
        lhs.elementwise("multiply", MultiplyByConstantRule.self, constant: rhs)
    }
    /// Multiplies by a constant. ∂/∂x = c.
    @inlinable @inline(__always) public static func * (lhs: Scalar, rhs: Variable) -> Variable { rhs * lhs }
    /// Divides by a constant. ∂/∂x = 1/c.
    @inlinable @inline(__always) public static func / (lhs: Variable, rhs: Scalar) -> Variable { lhs * (1 / rhs) }
    /// A constant divided by the variable. ∂/∂x = -c/x² = -y/x.
    @inlinable @inline(__always)
    public static func / (lhs: Scalar, rhs: Variable) -> Variable {
        rhs.elementwise("divide", DivideConstantRule.self, constant: lhs)
    }

    /// Negation. ∂/∂x = -1.
    @inlinable @inline(__always)
    public static prefix func - (operand: Variable) -> Variable {
        operand.elementwise("negate", NegateRule.self)
    }

    // MARK: Functions of one variable

    /// x². ∂/∂x = 2x.
    @inlinable @inline(__always)
    public func squared(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) { elementwise("square", SquareRule.self) } }

    /// The elementwise absolute value. ∂/∂x = sign(x) (0 at 0).
    @inlinable @inline(__always)
    public func abs(file: StaticString = #fileID, line: UInt = #line) -> Variable { at(file, line) { elementwise("abs", AbsoluteValueRule.self) } }
}

/// e^x. ∂/∂x = e^x = y.
@inlinable @inline(__always)
public func exp<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("exp", ExpRule.self) } }

/// e^x - 1, accurate for small x. ∂/∂x = e^x = y + 1.
@inlinable @inline(__always)
public func expm1<S>(_ x: Variable<S>) -> Variable<S> { x.elementwise("expm1", ExpMinusOneRule.self) }

/// Natural logarithm. ∂/∂x = 1/x.
@inlinable @inline(__always)
public func log<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("log", LogRule.self) } }

/// ln(1 + x), accurate for small x. ∂/∂x = 1/(1 + x).
@inlinable @inline(__always)
public func log1p<S>(_ x: Variable<S>) -> Variable<S> { x.elementwise("log1p", LogOnePlusRule.self) }

/// Square root. ∂/∂x = 1/(2√x) = 1/(2y).
@inlinable @inline(__always)
public func sqrt<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("sqrt", SquareRootRule.self) } }

/// x to a constant power p; an integer p (up to 1024 in magnitude) by repeated multiplication.
/// ∂/∂x = p·x^(p-1), and 0 everywhere for p = 0.
@inlinable @inline(__always)
public func pow<S>(_ x: Variable<S>, _ p: S, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("pow", PowerConstantRule.self, constant: p) } }

/// x^y elementwise with a variable exponent (numpy broadcasting). ∂/∂x = y·x^(y-1) (0 where
/// y = 0), ∂/∂y = x^y·ln x (0 where x = 0 and y ≥ 0).
@inlinable @inline(__always)
public func pow<S>(_ x: Variable<S>, _ y: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { Variable.broadcasting("pow", PowerRule.self, x, y) } }
/// A constant base to a variable power. ∂/∂y = b^y·ln b.
@inlinable public func pow<S>(_ base: S, _ y: Variable<S>) -> Variable<S> { pow(y.constantOnTape(base), y) }
/// x to a tensor of constant powers (broadcasting). ∂/∂x = p·x^(p-1).
@inlinable public func pow<S>(_ x: Variable<S>, _ p: Tensor<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { pow(x, x.constantOnTape(p)) } }
/// A tensor of constant bases to a variable power (broadcasting). ∂/∂y = b^y·ln b.
@inlinable public func pow<S>(_ base: Tensor<S>, _ y: Variable<S>) -> Variable<S> { pow(y.constantOnTape(base), y) }

/// The elementwise absolute value. ∂/∂x = sign(x).
@inlinable @inline(__always) public func abs<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.abs() } }

/// Sine (radians). ∂/∂x = cos x.
@inlinable @inline(__always)
public func sin<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("sin", SineRule.self) } }
/// Cosine (radians). ∂/∂x = -sin x.
@inlinable @inline(__always)
public func cos<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("cos", CosineRule.self) } }
/// Tangent (radians). ∂/∂x = 1 + tan²x.
@inlinable @inline(__always)
public func tan<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("tan", TangentRule.self) } }
/// Arcsine. ∂/∂x = 1/√(1 - x²).
@inlinable @inline(__always)
public func asin<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("asin", ArcsineRule.self) } }
/// Arccosine. ∂/∂x = -1/√(1 - x²).
@inlinable @inline(__always)
public func acos<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("acos", ArccosineRule.self) } }
/// Arctangent. ∂/∂x = 1/(1 + x²).
@inlinable @inline(__always)
public func atan<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("atan", ArctangentRule.self) } }
/// Hyperbolic sine. ∂/∂x = cosh x.
@inlinable @inline(__always)
public func sinh<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("sinh", HyperbolicSineRule.self) } }
/// Hyperbolic cosine. ∂/∂x = sinh x.
@inlinable @inline(__always)
public func cosh<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("cosh", HyperbolicCosineRule.self) } }

/// Hyperbolic tangent. ∂/∂x = 1 - y².
@inlinable @inline(__always)
public func tanh<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("tanh", TanhRule.self) } }

/// The logistic function 1/(1+e^-x), computed without overflow. ∂/∂x = y(1-y).
@inlinable @inline(__always)
public func sigmoid<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("sigmoid", SigmoidRule.self) } }

/// ln(1 + e^x), computed without overflow. ∂/∂x = sigmoid(x).
@inlinable @inline(__always)
public func softplus<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("softplus", SoftplusRule.self) } }

/// max(x, 0); NaN stays NaN. ∂/∂x = 1 where x > 0, else 0.
@inlinable @inline(__always)
public func relu<S>(_ x: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) { x.elementwise("relu", ReluRule.self) } }

/// x where x > 0, else alpha·x; NaN stays NaN. ∂/∂x = 1 or alpha.
@inlinable @inline(__always)
public func leakyRelu<S>(_ x: Variable<S>, alpha: S = 0.01, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) {
    x.elementwise("leakyRelu", LeakyReluRule.self, constant: alpha)
} }

/// x limited to [lo, hi] with constant bounds; NaN stays NaN. ∂/∂x = 1 where lo ≤ x ≤ hi, else 0.
@inlinable @inline(__always)
public func clamp<S>(_ x: Variable<S>, min lo: S, max hi: S, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { x.at(file, line) {
    Failure.check(lo <= hi, "clamp: the lower bound \(lo) is not at most the upper bound \(hi)")
    return x.elementwise("clamp", ClampBelowRule.self, constant: lo).elementwise("clamp", ClampAboveRule.self, constant: hi)
} }

/// The angle of the point (x, y) elementwise, in (-π, π] (numpy broadcasting).
/// ∂/∂y = x/(x² + y²), ∂/∂x = -y/(x² + y²).
@inlinable @inline(__always)
public func atan2<S>(_ y: Variable<S>, _ x: Variable<S>) -> Variable<S> { Variable.broadcasting("atan2", Arctangent2Rule.self, y, x) }
/// atan2 with a constant x. ∂/∂y = x/(x² + y²).
@inlinable public func atan2<S>(_ y: Variable<S>, _ x: S) -> Variable<S> { atan2(y, y.constantOnTape(x)) }
/// atan2 with a constant y. ∂/∂x = -y/(x² + y²).
@inlinable public func atan2<S>(_ y: S, _ x: Variable<S>) -> Variable<S> { atan2(x.constantOnTape(y), x) }
/// atan2 with a constant tensor x. ∂/∂y = x/(x² + y²).
@inlinable public func atan2<S>(_ y: Variable<S>, _ x: Tensor<S>) -> Variable<S> { atan2(y, y.constantOnTape(x)) }
/// atan2 with a constant tensor y. ∂/∂x = -y/(x² + y²).
@inlinable public func atan2<S>(_ y: Tensor<S>, _ x: Variable<S>) -> Variable<S> { atan2(x.constantOnTape(y), x) }

/// The larger of a and b elementwise (numpy broadcasting); NaN if either is NaN.
/// ∂ = 1 to the larger operand, ½ to each on a tie.
@inlinable @inline(__always)
public func maximum<S>(_ a: Variable<S>, _ b: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) { Variable.broadcasting("maximum", MaximumRule.self, a, b) } }
/// The larger of a and a constant. ∂/∂a = 1 where a > c, ½ where a = c.
@inlinable public func maximum<S>(_ a: Variable<S>, _ c: S, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) { maximum(a, a.constantOnTape(c)) } }
/// The larger of a constant and b. ∂/∂b = 1 where b > c, ½ where b = c.
@inlinable public func maximum<S>(_ c: S, _ b: Variable<S>) -> Variable<S> { maximum(b.constantOnTape(c), b) }
/// The larger of a and a constant tensor (broadcasting). ∂/∂a = 1 where a > t, ½ where equal.
@inlinable public func maximum<S>(_ a: Variable<S>, _ t: Tensor<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) { maximum(a, a.constantOnTape(t)) } }
/// The larger of a constant tensor and b (broadcasting). ∂/∂b = 1 where b > t, ½ where equal.
@inlinable public func maximum<S>(_ t: Tensor<S>, _ b: Variable<S>) -> Variable<S> { maximum(b.constantOnTape(t), b) }

/// The smaller of a and b elementwise (numpy broadcasting); NaN if either is NaN.
/// ∂ = 1 to the smaller operand, ½ to each on a tie.
@inlinable @inline(__always)
public func minimum<S>(_ a: Variable<S>, _ b: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) { Variable.broadcasting("minimum", MinimumRule.self, a, b) } }
/// The smaller of a and a constant. ∂/∂a = 1 where a < c, ½ where a = c.
@inlinable public func minimum<S>(_ a: Variable<S>, _ c: S, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) { minimum(a, a.constantOnTape(c)) } }
/// The smaller of a constant and b. ∂/∂b = 1 where b < c, ½ where b = c.
@inlinable public func minimum<S>(_ c: S, _ b: Variable<S>) -> Variable<S> { minimum(b.constantOnTape(c), b) }
/// The smaller of a and a constant tensor (broadcasting). ∂/∂a = 1 where a < t, ½ where equal.
@inlinable public func minimum<S>(_ a: Variable<S>, _ t: Tensor<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { a.at(file, line) { minimum(a, a.constantOnTape(t)) } }
/// The smaller of a constant tensor and b (broadcasting). ∂/∂b = 1 where b < t, ½ where equal.
@inlinable public func minimum<S>(_ t: Tensor<S>, _ b: Variable<S>) -> Variable<S> { minimum(b.constantOnTape(t), b) }
