extension Variable {
    /// Records an elementwise op of one input whose value is `f(x)` per element.
    @inlinable @inline(__always)
    func elementwise(
        _ op: StaticString, auxScalar: Scalar = 0, _ f: (Scalar) -> Scalar,
        pullback: @escaping Tape<Scalar>.Pullback
    ) -> Variable {
        tape.record(op, shapeOfFirstInput: self, auxScalar: auxScalar, forward: { ctx in
            let x = ctx.a.value
            let y = ctx.output.value
            for i in 0..<ctx.output.count { y[i] = f(x[i]) }
        }, pullback: pullback)
    }

    /// Records a broadcasting binary op.
    @inlinable @inline(__always)
    static func broadcasting<Op: ElementwiseBinaryOperation>(
        _ op: StaticString, _ kind: Op.Type, _ lhs: Variable, _ rhs: Variable,
        pullback: @escaping Tape<Scalar>.Pullback
    ) -> Variable {
        let tape = lhs.tape
        tape.validate(rhs, op)
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
            return tape.record(op, shapeOfFirstInput: lhs, rhs, forward: forward, pullback: pullback)
        }
        let shape = ShapeMath.broadcast(lhs.shape, rhs.shape, op: op)
        return tape.record(op, shape: shape, lhs, rhs, forward: forward, pullback: pullback)
    }

    // MARK: Between variables (numpy broadcasting)

    /// Elementwise sum. ∂/∂a = ∂/∂b = 1 (summed over broadcast axes).
    @inlinable
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("add", AddOperation.self, lhs, rhs) { ctx in
            let g = ctx.output.gradient.unsafelyUnwrapped
            ctx.accumulateBroadcast(g, into: ctx.a)
            ctx.accumulateBroadcast(g, into: ctx.b)
        }
    }

    /// Elementwise difference. ∂/∂a = 1, ∂/∂b = -1.
    @inlinable
    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("subtract", SubtractOperation.self, lhs, rhs) { ctx in
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
    }

    /// Elementwise product. ∂/∂a = b, ∂/∂b = a.
    @inlinable
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("multiply", MultiplyOperation.self, lhs, rhs) { ctx in
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
    }

    /// Elementwise quotient. ∂/∂a = 1/b, ∂/∂b = -a/b² = -y/b.
    @inlinable
    public static func / (lhs: Variable, rhs: Variable) -> Variable {
        broadcasting("divide", DivideOperation.self, lhs, rhs) { ctx in
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
    }

    // MARK: With a scalar on either side

    /// Adds a constant. ∂/∂x = 1.
    @inlinable
    public static func + (lhs: Variable, rhs: Scalar) -> Variable {
        lhs.elementwise("add", auxScalar: rhs, { $0 + rhs }) { $0.accumulateElementwise { _, _ in 1 } }
    }
    /// Adds a constant. ∂/∂x = 1.
    @inlinable public static func + (lhs: Scalar, rhs: Variable) -> Variable { rhs + lhs }
    /// Subtracts a constant. ∂/∂x = 1.
    @inlinable public static func - (lhs: Variable, rhs: Scalar) -> Variable { lhs + (-rhs) }
    /// A constant minus the variable. ∂/∂x = -1.
    @inlinable
    public static func - (lhs: Scalar, rhs: Variable) -> Variable {
        rhs.elementwise("subtract", auxScalar: lhs, { lhs - $0 }) { $0.accumulateElementwise { _, _ in -1 } }
    }
    /// Multiplies by a constant. ∂/∂x = c.
    @inlinable
    public static func * (lhs: Variable, rhs: Scalar) -> Variable {
        lhs.elementwise("multiply", auxScalar: rhs, { $0 * rhs }) { ctx in
            let c = ctx.auxScalar
            ctx.accumulateElementwise { _, _ in c }
        }
    }
    /// Multiplies by a constant. ∂/∂x = c.
    @inlinable public static func * (lhs: Scalar, rhs: Variable) -> Variable { rhs * lhs }
    /// Divides by a constant. ∂/∂x = 1/c.
    @inlinable public static func / (lhs: Variable, rhs: Scalar) -> Variable { lhs * (1 / rhs) }
    /// A constant divided by the variable. ∂/∂x = -c/x² = -y/x.
    @inlinable
    public static func / (lhs: Scalar, rhs: Variable) -> Variable {
        rhs.elementwise("divide", auxScalar: lhs, { lhs / $0 }) { $0.accumulateElementwise { x, y in -y / x } }
    }

    /// Negation. ∂/∂x = -1.
    @inlinable
    public static prefix func - (operand: Variable) -> Variable {
        operand.elementwise("negate", { -$0 }) { $0.accumulateElementwise { _, _ in -1 } }
    }

    // MARK: Functions of one variable

    /// x². ∂/∂x = 2x.
    @inlinable
    public func squared() -> Variable {
        elementwise("square", { $0 * $0 }) { $0.accumulateElementwise { x, _ in 2 * x } }
    }

    /// The elementwise absolute value. ∂/∂x = sign(x) (0 at 0).
    @inlinable
    public func abs() -> Variable {
        elementwise("abs", { Swift.abs($0) }) { $0.accumulateElementwise { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    }
}

/// e^x. ∂/∂x = e^x = y.
@inlinable
public func exp<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("exp", { S.exp($0) }) { $0.accumulateElementwise { _, y in y } }
}

/// Natural logarithm. ∂/∂x = 1/x.
@inlinable
public func log<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("log", { S.log($0) }) { $0.accumulateElementwise { x, _ in 1 / x } }
}

/// Square root. ∂/∂x = 1/(2√x) = 1/(2y).
@inlinable
public func sqrt<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("sqrt", { $0.squareRoot() }) { $0.accumulateElementwise { _, y in 1 / (2 * y) } }
}

/// x to a constant power p. ∂/∂x = p·x^(p-1).
@inlinable
public func pow<S>(_ x: Variable<S>, _ p: S) -> Variable<S> {
    x.elementwise("pow", auxScalar: p, { S.pow($0, p) }) { ctx in
        let p = ctx.auxScalar
        ctx.accumulateElementwise { x, _ in p * S.pow(x, p - 1) }
    }
}

/// The elementwise absolute value. ∂/∂x = sign(x).
@inlinable public func abs<S>(_ x: Variable<S>) -> Variable<S> { x.abs() }

/// Hyperbolic tangent. ∂/∂x = 1 - y².
@inlinable
public func tanh<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("tanh", { S.tanh($0) }) { $0.accumulateElementwise { _, y in 1 - y * y } }
}

/// The logistic function 1/(1+e^-x), computed without overflow. ∂/∂x = y(1-y).
@inlinable
public func sigmoid<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("sigmoid", { ScalarMath.sigmoid($0) }) { $0.accumulateElementwise { _, y in y * (1 - y) } }
}

/// max(x, 0). ∂/∂x = 1 where x > 0, else 0.
@inlinable
public func relu<S>(_ x: Variable<S>) -> Variable<S> {
    x.elementwise("relu", { $0 > 0 ? $0 : 0 }) { $0.accumulateElementwise { x, _ in x > 0 ? 1 : 0 } }
}

/// x where x > 0, else alpha·x. ∂/∂x = 1 or alpha.
@inlinable
public func leakyRelu<S>(_ x: Variable<S>, alpha: S = 0.01) -> Variable<S> {
    x.elementwise("leakyRelu", auxScalar: alpha, { $0 > 0 ? $0 : alpha * $0 }) { ctx in
        let alpha = ctx.auxScalar
        ctx.accumulateElementwise { x, _ in x > 0 ? 1 : alpha }
    }
}

/// Scalar functions shared by ops and kernels.
public enum ScalarMath {
    /// 1/(1+e^-x) without overflow for large |x|.
    @inlinable
    public static func sigmoid<S: TensorScalar>(_ x: S) -> S {
        if x >= 0 { return 1 / (1 + S.exp(-x)) }
        let e = S.exp(x)
        return e / (1 + e)
    }
}
