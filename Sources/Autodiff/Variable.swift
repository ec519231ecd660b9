/// A value recorded on a ``Tape``: the result of an op, a parameter, or a constant. Ops on
/// variables compute their value at once and record how to send gradients back.
public struct Variable<Scalar: TensorScalar> {
    /// The tape this variable is recorded on.
    public let tape: Tape<Scalar>
    @usableFromInline let index: Int32
    /// 0 for parameters, otherwise the tape generation it was recorded in.
    @usableFromInline let generation: UInt32

    @inlinable
    init(tape: Tape<Scalar>, index: Int32, generation: UInt32) {
        self.tape = tape
        self.index = index
        self.generation = generation
    }

    @inlinable
    init(tape: Tape<Scalar>, index: Int, generation: UInt32) {
        self.init(tape: tape, index: Int32(truncatingIfNeeded: index), generation: generation)
    }

    /// The shape of the value.
    @inlinable public var shape: [Int] { tape.shape(of: self) }
    /// A copy of the value.
    public var value: Tensor<Scalar> { tape.value(of: self) }
    /// The only element of a one-element value.
    @inlinable
    public var scalar: Scalar {
        tape.withValue(of: self) { p in
            precondition(p.count == 1, "scalar: value of shape \(ShapeMath.describe(shape)) has \(p.count) elements")
            return p[0]
        }
    }
    /// A copy of the gradient from the last backward pass.
    public var gradient: Tensor<Scalar> { tape.gradient(of: self) }
    /// Whether a gradient flows to this variable (false for constants and for results that
    /// depend on constants only or were computed without recording).
    @inlinable
    public var requiresGradient: Bool {
        tape.validate(self, "requiresGradient")
        return tape.storage.pointee.entries[Int(index)].requiresGradient
    }
    /// Whether this is a parameter (kept by ``Tape/reset()``).
    @inlinable public var isParameter: Bool { generation == 0 }
}
