/// A value recorded on a ``Tape``: the result of an op, a parameter, or a constant. Ops on
/// variables compute their value at once and record how to send gradients back.
///
/// Leaves (parameters and constants made by the tape) keep their tape alive; results of ops
/// do not, so recording an op costs no reference counting (an atomic increment is a third of a
/// scalar step). A result used after its tape is gone stops with a message.
public struct Variable<Scalar: TensorScalar> {
    @usableFromInline let storage: UnsafeMutablePointer<TapeStorage<Scalar>>
    @usableFromInline let tapeID: UInt64
    @usableFromInline let index: Int32
    /// 0 for parameters, otherwise the tape generation it was recorded in.
    @usableFromInline let generation: UInt32
    /// The tape, held by leaves only.
    @usableFromInline let owner: Tape<Scalar>?

    /// A result of an op, or a leaf when `owner` is given.
    @inlinable @inline(__always)
    init(storage: UnsafeMutablePointer<TapeStorage<Scalar>>, index: Int, generation: UInt32, owner: Tape<Scalar>? = nil) {
        self.storage = storage
        self.tapeID = storage.pointee.tapeID
        self.index = Int32(truncatingIfNeeded: index)
        self.generation = generation
        self.owner = owner
    }

    /// The tape this variable is recorded on.
    @inlinable
    public var tape: Tape<Scalar> {
        if let owner { return owner }
        checkTapeExists("tape")
        return storage.pointee.owner.unsafelyUnwrapped.takeUnretainedValue()
    }

    /// Stops when the tape of this variable has been deallocated.
    @inlinable @inline(__always)
    func checkTapeExists(_ op: StaticString) {
        if storage.pointee.tapeID != tapeID { Variable.tapeIsGone(op) }
    }

    @usableFromInline
    static func tapeIsGone(_ op: StaticString) -> Never {
        Failure.stop("\(op): the tape of this variable no longer exists; keep the Tape (or a parameter of it) alive while its variables are in use")
    }

    /// Stops unless this variable can be used now: its tape exists and it was recorded since the
    /// last reset (or is a parameter).
    @inlinable @inline(__always)
    func checkUsable(_ op: StaticString) {
        checkTapeExists(op)
        let s = storage
        if generation != s.pointee.generation && !(generation == 0 && Int(index) < s.pointee.persistentCount) {
            Variable.recordedBeforeReset(op)
        }
    }

    @usableFromInline
    static func onAnotherTape(_ op: StaticString) -> Never {
        Failure.stop("\(op): the variable belongs to another tape")
    }

    @usableFromInline
    static func recordedBeforeReset(_ op: StaticString) -> Never {
        Failure.stop("\(op): the variable was recorded before the tape was reset; record it again")
    }

    /// Whether `self` and `other` are on the same tape.
    @inlinable @inline(__always)
    func isOnSameTape(as other: Variable) -> Bool { storage == other.storage && tapeID == other.tapeID }

    /// The shape of the value.
    @inlinable public var shape: [Int] { tape.shape(of: self) }
    /// The shape in place in the tape's int arena, without building an array (valid until the
    /// tape is reset): for ops that check shapes on every step without allocating.
    @inlinable
    func shapeBuffer(_ op: StaticString) -> UnsafeBufferPointer<Int> {
        tape.validate(self, op)
        let entry = storage.pointee.entries[Int(index)]
        return UnsafeBufferPointer(start: storage.pointee.ints + entry.shapeOffset, count: entry.rank)
    }
    /// A copy of the value.
    public var value: Tensor<Scalar> { tape.value(of: self) }
    /// The only element of a one-element value.
    @inlinable
    public var scalar: Scalar {
        checkUsable("scalar")
        let entry = storage.pointee.entries[Int(index)]
        Failure.check(entry.count == 1, "scalar: value of shape \(ShapeMath.describe(shape)) has \(entry.count) elements")
        if storage.pointee.compiling { storage.pointee.noteValueRead(Int(index)) }
        return storage.pointee.values[entry.valueOffset]
    }
    /// A copy of the gradient from the last backward pass.
    public var gradient: Tensor<Scalar> { tape.gradient(of: self) }
    /// Whether a gradient flows to this variable (false for constants and for results that
    /// depend on constants only or were computed without recording).
    @inlinable
    public var requiresGradient: Bool {
        checkUsable("requiresGradient")
        return storage.pointee.entries[Int(index)].requiresGradient
    }
    /// Whether this is a parameter (kept by ``Tape/reset()``).
    @inlinable public var isParameter: Bool { generation == 0 }
}
