extension Variable {
    /// Records an elementwise op of one input following `rule` (value and derivative side by
    /// side); the tape finds its pullback by the rule's code. A rank-0 operand takes the lean
    /// scalar path, inlined into the caller; tensors take ``elementwiseOnTensor(_:_:constant:)``.
    @inlinable @inline(__always)
    func elementwise<Rule: ElementwiseRule>(_ op: StaticString, _: Rule.Type, constant: Scalar = 0) -> Variable {
        checkUsable(op)
        if let x = scalarValue {
            return Variable.recordScalar(Rule.value(x, constant), self, auxScalar: constant, rule: Rule.code)
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
        _ value: Scalar, _ a: Variable, _ b: Variable? = nil, auxScalar: Scalar = 0, rule: BuiltinPullback
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
        return Variable(storage: s, index: index, generation: s.pointee.generation)
    }

    /// The general path of ``elementwise(_:_:constant:)``, kept out of line so that the scalar
    /// path stays small enough to inline.
    @inlinable @inline(never)
    func elementwiseOnTensor<Rule: ElementwiseRule>(_ op: StaticString, _: Rule.Type, constant: Scalar) -> Variable {
        tape.record(op, shapeOfFirstInput: self, auxScalar: constant, rule: Rule.code) { ctx in
            Rule.values(ctx.a.value, ctx.output.value, count: ctx.output.count, ctx.auxScalar)
        }
    }

    /// Records a broadcasting binary op whose pullback is the built-in `pullback`: the lean
    /// scalar path for two rank-0 operands, else ``broadcastingOnTensors(_:_:_:_:pullback:)``.
    @inlinable @inline(__always)
    static func broadcasting<Op: ElementwiseBinaryOperation>(
        _ op: StaticString, _ kind: Op.Type, _ lhs: Variable, _ rhs: Variable, pullback: BuiltinPullback
    ) -> Variable {
        lhs.checkUsable(op)
        if !lhs.isOnSameTape(as: rhs) { rhs.checkTapeExists(op); Variable.onAnotherTape(op) }
        rhs.checkUsable(op)
        if let a = lhs.scalarValue, let b = rhs.scalarValue {
            return Variable.recordScalar(Op.apply(a, b), lhs, rhs, rule: pullback)
        }
        return broadcastingOnTensors(op, kind, lhs, rhs, pullback: pullback)
    }

    /// The general path of ``broadcasting(_:_:_:_:pullback:)``, out of line.
    @inlinable @inline(never)
    static func broadcastingOnTensors<Op: ElementwiseBinaryOperation>(
        _ op: StaticString, _ kind: Op.Type, _ lhs: Variable, _ rhs: Variable, pullback: BuiltinPullback
    ) -> Variable {
        let tape = lhs.tape
        let forward: (OpContext<Scalar>) -> Void = { ctx in
            let out = ctx.output
            if ctx.a.count == out.count && ctx.b.count == out.count {
                let a = ctx.a.value
                let b = ctx.b.value
                for i in 0..<out.count { out.value[i] = Op.apply(a[i], b[i]) }
            } else {
                ElementwiseKernels.binary(kind, ctx.a.value, ctx.a.shape, ctx.b.value, ctx.b.shape, out.value, out.shape)
            }
        }
        if tape.storage.pointee.sameShape(Int(lhs.index), Int(rhs.index)) {
            return tape.record(op, shapeOfFirstInput: lhs, rhs, rule: pullback, forward: forward)
        }
        let shape = ShapeMath.broadcast(lhs.shape, rhs.shape, op: op)
        return tape.record(op, shape: shape, lhs, rhs, rule: pullback, forward: forward)
    }

    // MARK: Between variables (numpy broadcasting)

    /// Elementwise sum. ∂/∂a = ∂/∂b = 1 (summed over broadcast axes).
    @inlinable @inline(__always)
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("add", AddOperation.self, lhs, rhs, pullback: .add)
    }
    @inlinable @inline(__always)
    static func addPullback(_ ctx: OpContext<Scalar>) {
        let g = ctx.output.gradient.unsafelyUnwrapped
        ctx.accumulateBroadcast(g, into: ctx.a)
        ctx.accumulateBroadcast(g, into: ctx.b)
    }

    /// Elementwise difference. ∂/∂a = 1, ∂/∂b = -1.
    @inlinable @inline(__always)
    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("subtract", SubtractOperation.self, lhs, rhs, pullback: .subtract)
    }
    @inlinable @inline(__always)
    static func subtractPullback(_ ctx: OpContext<Scalar>) {
        let g = ctx.output.gradient.unsafelyUnwrapped
        ctx.accumulateBroadcast(g, into: ctx.a)
        let b = ctx.b
        guard let gb = b.gradient else { return }
        if b.count == 1 && ctx.output.count == 1 {
            gb[0] -= g[0]
        } else {
            let n = ctx.output.count
            let negated = ctx.scratch(n)
            for i in 0..<n { negated[i] = -g[i] }
            ctx.accumulateBroadcast(negated, into: b)
        }
    }

    /// Elementwise product. ∂/∂a = b, ∂/∂b = a.
    @inlinable @inline(__always)
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("multiply", MultiplyOperation.self, lhs, rhs, pullback: .multiply)
    }
    @inlinable @inline(__always)
    static func multiplyPullback(_ ctx: OpContext<Scalar>) {
        let a = ctx.a
        let b = ctx.b
        if a.count == 1 && b.count == 1 {
            let g = ctx.output.gradient.unsafelyUnwrapped[0]
            if let ga = a.gradient { ga[0] += g * b.value[0] }
            if let gb = b.gradient { gb[0] += g * a.value[0] }
            return
        }
        ctx.accumulateProduct(into: a, times: b)
        ctx.accumulateProduct(into: b, times: a)
    }

    /// Elementwise quotient. ∂/∂a = 1/b, ∂/∂b = -a/b² = -y/b.
    @inlinable @inline(__always)
    public static func / (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("divide", DivideOperation.self, lhs, rhs, pullback: .divide)
    }
    @inlinable
    static func dividePullback(_ ctx: OpContext<Scalar>) {
        let b = ctx.b
        if ctx.a.gradient != nil {
            let n = ctx.output.count
            let g = ctx.output.gradient.unsafelyUnwrapped
            let quotient = ctx.scratch(n)
            if b.count == n {
                for i in 0..<n { quotient[i] = g[i] / b.value[i] }
            } else {
                ElementwiseKernels.binary(DivideOperation.self, g, ctx.output.shape, b.value, b.shape, quotient, ctx.output.shape)
            }
            ctx.accumulateBroadcast(quotient, into: ctx.a)
        }
        ctx.accumulateProduct(into: b, times: ctx.output, scaledBy: -1, dividedBy: b)
    }

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
    public func squared() -> Variable {
        elementwise("square", SquareRule.self)
    }

    /// The elementwise absolute value. ∂/∂x = sign(x) (0 at 0).
    @inlinable @inline(__always)
    public func abs() -> Variable {
        elementwise("abs", AbsoluteValueRule.self)
    }
}

/// e^x. ∂/∂x = e^x = y.
@inlinable @inline(__always)
public func exp<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("exp", ExpRule.self)
}

/// Natural logarithm. ∂/∂x = 1/x.
@inlinable @inline(__always)
public func log<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("log", LogRule.self)
}

/// Square root. ∂/∂x = 1/(2√x) = 1/(2y).
@inlinable @inline(__always)
public func sqrt<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("sqrt", SquareRootRule.self)
}

/// x to a constant power p. ∂/∂x = p·x^(p-1).
@inlinable @inline(__always)
public func pow<S>(_ x: Variable<S>, _ p: S) -> Variable<S> {
    x.elementwise("pow", PowerRule.self, constant: p)
}

/// The elementwise absolute value. ∂/∂x = sign(x).
@inlinable @inline(__always) public func abs<S>(_ x: Variable<S>) -> Variable<S> { x.abs() }

/// Hyperbolic tangent. ∂/∂x = 1 - y².
@inlinable @inline(__always)
public func tanh<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("tanh", TanhRule.self)
}

/// The logistic function 1/(1+e^-x), computed without overflow. ∂/∂x = y(1-y).
@inlinable @inline(__always)
public func sigmoid<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("sigmoid", SigmoidRule.self)
}

/// max(x, 0). ∂/∂x = 1 where x > 0, else 0.
@inlinable @inline(__always)
public func relu<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("relu", ReluRule.self)
}

/// x where x > 0, else alpha·x. ∂/∂x = 1 or alpha.
@inlinable @inline(__always)
public func leakyRelu<S>(_ x: Variable<S>, alpha: S = 0.01) -> Variable<S> {
    x.elementwise("leakyRelu", LeakyReluRule.self, constant: alpha)
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
}
