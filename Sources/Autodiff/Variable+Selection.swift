extension Tape {
    /// Records a value that no gradient flows through (a mask, a stopped gradient): computed by
    /// `forward` from the inputs, marked constant whatever the inputs are.
    @inlinable
    func recordConstant(
        _ op: StaticString, shape: [Int], _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil,
        forward: (OpContext<Scalar>) -> Void
    ) -> Variable<Scalar> {
        let (inputs, _) = recordedInputs(op, a, b, nil)
        let index = storage.pointee.append(op: op,
            shape: shape, inputs: inputs, requiresGradient: false, auxScalar: 0, auxInt: 0, savedScalars: 0, savedInts: 0)
        return finishRecording(index, rule: .none, forward)
    }

    /// ``recordConstant(_:shape:_:_:forward:)`` with a forward a compiled program can run again.
    @inlinable
    func recordConstant<Kernel: ForwardKernel>(
        _ op: StaticString, shape: [Int], _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil, kernel: Kernel.Type
    ) -> Variable<Scalar> {
        let variable = recordConstant(op, shape: shape, a, b) { Kernel.forward($0) }
        storage.pointee.markKernel(Int(variable.index), Kernel.self)
        return variable
    }
}

extension Variable {
    /// 1 where `F` holds between the broadcast operands, else 0: a constant.
    @inlinable
    static func mask<F: BinaryFunction>(_ op: StaticString, _: F.Type, _ lhs: Variable, _ rhs: Variable) -> Variable {
        let shape = ShapeMath.broadcast(lhs.shape, rhs.shape, op: op)
        return lhs.tape.recordConstant(op, shape: shape, lhs, rhs, kernel: MaskForward<F>.self)
    }

    /// The mask of a > b (1 or 0, a constant; numpy broadcasting).
    @inlinable public static func .> (lhs: Variable, rhs: Variable) -> Variable { mask(".>", GreaterFunction.self, lhs, rhs) }
    /// The mask of a < b.
    @inlinable public static func .< (lhs: Variable, rhs: Variable) -> Variable { mask(".<", LessFunction.self, lhs, rhs) }
    /// The mask of a ≥ b.
    @inlinable public static func .>= (lhs: Variable, rhs: Variable) -> Variable { mask(".>=", GreaterOrEqualFunction.self, lhs, rhs) }
    /// The mask of a ≤ b.
    @inlinable public static func .<= (lhs: Variable, rhs: Variable) -> Variable { mask(".<=", LessOrEqualFunction.self, lhs, rhs) }
    /// The mask of a = b.
    @inlinable public static func .== (lhs: Variable, rhs: Variable) -> Variable { mask(".==", EqualFunction.self, lhs, rhs) }
    /// The mask of a ≠ b.
    @inlinable public static func .!= (lhs: Variable, rhs: Variable) -> Variable { mask(".!=", NotEqualFunction.self, lhs, rhs) }

    /// The mask of x > c.
    @inlinable public static func .> (lhs: Variable, rhs: Scalar) -> Variable { lhs .> lhs.constantOnTape(rhs) }
    /// The mask of x < c.
    @inlinable public static func .< (lhs: Variable, rhs: Scalar) -> Variable { lhs .< lhs.constantOnTape(rhs) }
    /// The mask of x ≥ c.
    @inlinable public static func .>= (lhs: Variable, rhs: Scalar) -> Variable { lhs .>= lhs.constantOnTape(rhs) }
    /// The mask of x ≤ c.
    @inlinable public static func .<= (lhs: Variable, rhs: Scalar) -> Variable { lhs .<= lhs.constantOnTape(rhs) }
    /// The mask of x = c.
    @inlinable public static func .== (lhs: Variable, rhs: Scalar) -> Variable { lhs .== lhs.constantOnTape(rhs) }
    /// The mask of x ≠ c.
    @inlinable public static func .!= (lhs: Variable, rhs: Scalar) -> Variable { lhs .!= lhs.constantOnTape(rhs) }
    /// The mask of c > x.
    @inlinable public static func .> (lhs: Scalar, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .> rhs }
    /// The mask of c < x.
    @inlinable public static func .< (lhs: Scalar, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .< rhs }
    /// The mask of c ≥ x.
    @inlinable public static func .>= (lhs: Scalar, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .>= rhs }
    /// The mask of c ≤ x.
    @inlinable public static func .<= (lhs: Scalar, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .<= rhs }
    /// The mask of c = x.
    @inlinable public static func .== (lhs: Scalar, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .== rhs }

    /// The mask of x > t (broadcasting).
    @inlinable public static func .> (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs .> lhs.constantOnTape(rhs) }
    /// The mask of x < t.
    @inlinable public static func .< (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs .< lhs.constantOnTape(rhs) }
    /// The mask of x ≥ t.
    @inlinable public static func .>= (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs .>= lhs.constantOnTape(rhs) }
    /// The mask of x ≤ t.
    @inlinable public static func .<= (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs .<= lhs.constantOnTape(rhs) }
    /// The mask of x = t.
    @inlinable public static func .== (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs .== lhs.constantOnTape(rhs) }
    /// The mask of t > x.
    @inlinable public static func .> (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .> rhs }
    /// The mask of t < x.
    @inlinable public static func .< (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .< rhs }
    /// The mask of t ≥ x.
    @inlinable public static func .>= (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .>= rhs }
    /// The mask of t ≤ x.
    @inlinable public static func .<= (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .<= rhs }
    /// The mask of t = x.
    @inlinable public static func .== (lhs: Tensor<Scalar>, rhs: Variable) -> Variable { rhs.constantOnTape(lhs) .== rhs }
}

extension Tensor {
    /// The mask of a > b (1 or 0; numpy broadcasting).
    @inlinable public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(GreaterFunction.self, lhs, rhs, name: ".>") }
    /// The mask of a < b.
    @inlinable public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(LessFunction.self, lhs, rhs, name: ".<") }
    /// The mask of a ≥ b.
    @inlinable public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(GreaterOrEqualFunction.self, lhs, rhs, name: ".>=") }
    /// The mask of a ≤ b.
    @inlinable public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(LessOrEqualFunction.self, lhs, rhs, name: ".<=") }
    /// The mask of a = b.
    @inlinable public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(EqualFunction.self, lhs, rhs, name: ".==") }
    /// The mask of a ≠ b.
    @inlinable public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(NotEqualFunction.self, lhs, rhs, name: ".!=") }
    /// The mask of x > c.
    @inlinable public static func .> (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .> Tensor(rhs) }
    /// The mask of x < c.
    @inlinable public static func .< (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .< Tensor(rhs) }
    /// The mask of x ≥ c.
    @inlinable public static func .>= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .>= Tensor(rhs) }
    /// The mask of x ≤ c.
    @inlinable public static func .<= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .<= Tensor(rhs) }
    /// The mask of x = c.
    @inlinable public static func .== (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .== Tensor(rhs) }
}

/// `a` where the mask is nonzero, else `b`, elementwise; the three broadcast together (numpy's
/// `where`, a Swift keyword). ∂/∂a = G where the mask is set, ∂/∂b = G elsewhere; the mask
/// gets no gradient.
@inlinable
public func select<S>(_ mask: Variable<S>, _ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let shape = ShapeMath.broadcast(ShapeMath.broadcast(mask.shape, a.shape, op: "select"), b.shape, op: "select")
    return mask.tape.record("select", shape: shape, inputs: [mask, a, b], kernel: SelectForward.self, pullback: { ctx in
        let n = ctx.output.count
        let g = ctx.output.gradient.unsafelyUnwrapped
        let m = ctx.scratch(n)
        BroadcastKernels.broadcast(ctx.input(0).value, ctx.input(0).shape, into: m, shape)
        let contribution = ctx.scratch(n)
        for (input, chosen) in [(1, true), (2, false)] where ctx.input(input).gradient != nil {
            for i in 0..<n { contribution[i] = (m[i] != 0) == chosen ? g[i] : 0 }
            ctx.accumulateBroadcast(contribution, into: ctx.input(input))
        }
    })
}

/// `a` where the mask is nonzero, else the constant `b`. ∂/∂a = G where the mask is set.
@inlinable
public func select<S>(_ mask: Variable<S>, _ a: Variable<S>, _ b: S) -> Variable<S> { select(mask, a, a.constantOnTape(b)) }
/// The constant `a` where the mask is nonzero, else `b`. ∂/∂b = G where the mask is not set.
@inlinable
public func select<S>(_ mask: Variable<S>, _ a: S, _ b: Variable<S>) -> Variable<S> { select(mask, b.constantOnTape(a), b) }
/// `a` where the constant mask is nonzero, else `b`. ∂/∂a, ∂/∂b as in the other forms.
@inlinable
public func select<S>(_ mask: Tensor<S>, _ a: Variable<S>, _ b: Variable<S>) -> Variable<S> { select(a.constantOnTape(mask), a, b) }

/// `a` where the mask is nonzero, else `b`, elementwise with numpy broadcasting.
@inlinable
public func select<S>(_ mask: Tensor<S>, _ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    let shape = ShapeMath.broadcast(ShapeMath.broadcast(mask.shape, a.shape, op: "select"), b.shape, op: "select")
    let n = ShapeMath.count(shape)
    let scratch = UnsafeMutablePointer<S>.allocate(capacity: Swift.max(1, 3 * n))
    defer { scratch.deallocate() }
    return Tensor(shape: shape) { out in
        mask.withUnsafeBufferPointer { m in
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { z in
                    BroadcastKernels.select(m.baseAddress!, mask.shape, x.baseAddress!, a.shape, z.baseAddress!, b.shape,
                                            into: out.baseAddress!, shape, scratch: scratch)
                }
            }
        }
    }
}

extension BroadcastKernels {
    /// out = a where mask ≠ 0, else b, the three broadcast to `shape`; `scratch` holds 3·count.
    @inlinable
    static func select<S: TensorScalar, Shape: RandomAccessCollection<Int>>(
        _ mask: UnsafePointer<S>, _ maskShape: Shape, _ a: UnsafePointer<S>, _ aShape: Shape,
        _ b: UnsafePointer<S>, _ bShape: Shape, into out: UnsafeMutablePointer<S>, _ shape: Shape,
        scratch: UnsafeMutablePointer<S>
    ) where Shape.Index == Int {
        let n = ShapeMath.count(shape)
        let (m, x, z) = (scratch, scratch + n, scratch + 2 * n)
        broadcast(mask, maskShape, into: m, shape)
        broadcast(a, aShape, into: x, shape)
        broadcast(b, bShape, into: z, shape)
        for i in 0..<n { out[i] = m[i] != 0 ? x[i] : z[i] }
    }
}

/// The value of x, through which no derivative flows (a constant from here on) in any mode:
/// no gradient in reverse mode, and on a tape of ``Dual`` numbers the tangents are dropped, so
/// `jvp`, Jacobians and Hessians treat it as a constant too (as JAX's `stop_gradient`). ∂/∂x = 0.
@inlinable
public func stopGradient<S>(_ x: Variable<S>) -> Variable<S> {
    x.tape.recordConstant("stopGradient", shape: x.shape, x, kernel: ConstantPartForward.self)
}

extension Variable: CustomStringConvertible {
    /// The shape and the value, e.g. `Variable [2] [1.0, 2.0]`; for a variable that can no
    /// longer be read, why.
    public var description: String {
        if storage.pointee.tapeID != tapeID { return "Variable (its tape no longer exists)" }
        if generation != storage.pointee.generation && !(generation == 0 && Int(index) < storage.pointee.persistentCount) {
            return "Variable (recorded before the tape was reset)"
        }
        let value = self.value
        return "Variable \(ShapeMath.describe(value.shape)) \(value)"
    }
}
