/// One entry of a tape seen from inside an op: its value, and in a pullback its gradient.
public struct TapeValue<Scalar: TensorScalar> {
    /// The value (written by the forward function for an op's output).
    public let value: UnsafeMutablePointer<Scalar>
    /// In a pullback: for the output, the incoming gradient; for an input, where its gradient
    /// accumulates (`+=`), or nil when that input needs none (constants). Nil in a forward.
    @inlinable public var gradient: UnsafeMutablePointer<Scalar>? {
        guard let (pointer, overwrite) = gradientToWrite else { return nil }
        if overwrite { pointer.update(repeating: 0, count: count) }
        return pointer
    }
    /// In a pullback, for a pullback that writes every element of this gradient: where, and
    /// whether to overwrite (no op has written it yet in this backward pass, so it holds
    /// garbage; the first writer of a sole consumer's gradient, a matrix product with beta 0)
    /// rather than accumulate. Nil when no gradient is wanted.
    @inlinable var gradientToWrite: (pointer: UnsafeMutablePointer<Scalar>, overwrite: Bool)? {
        guard let gradientAddress else { return nil }
        return (gradientAddress, storage.pointee.claimPendingGradient(index))
    }
    @usableFromInline let gradientAddress: UnsafeMutablePointer<Scalar>?
    /// The number of elements.
    public let count: Int
    @usableFromInline let storage: UnsafeMutablePointer<TapeStorage<Scalar>>
    @usableFromInline let index: Int

    @inlinable @inline(__always)
    init(storage: UnsafeMutablePointer<TapeStorage<Scalar>>, index: Int) {
        let entry = storage.pointee.entries[index]
        self.storage = storage
        self.index = index
        value = storage.pointee.values + entry.valueOffset
        count = entry.count
        if storage.pointee.inBackward && entry.requiresGradient {
            gradientAddress = storage.pointee.gradients.unsafelyUnwrapped + entry.valueOffset
        } else {
            gradientAddress = nil
        }
    }

    /// The shape of the value.
    @inlinable public var shape: [Int] { storage.pointee.shape(index) }
    /// The shape in place in the tape's int arena, without building an array (valid during the
    /// op's forward or pullback).
    @inlinable var shapeBuffer: UnsafeBufferPointer<Int> {
        let entry = storage.pointee.entries[index]
        return UnsafeBufferPointer(start: storage.pointee.ints + entry.shapeOffset, count: entry.rank)
    }
}

/// What a forward function and a pullback of one recorded op can see: the op's output, its
/// inputs, the constants it recorded, the data it saved, and scratch memory.
public struct OpContext<Scalar: TensorScalar> {
    @usableFromInline let storage: UnsafeMutablePointer<TapeStorage<Scalar>>
    @usableFromInline let entry: Int

    @inlinable
    init(storage: UnsafeMutablePointer<TapeStorage<Scalar>>, entry: Int) {
        self.storage = storage
        self.entry = entry
    }

    /// The op's result.
    @inlinable @inline(__always) public var output: TapeValue<Scalar> { TapeValue(storage: storage, index: entry) }
    /// The first input.
    @inlinable @inline(__always) public var a: TapeValue<Scalar> { TapeValue(storage: storage, index: Int(storage.pointee.entries[entry].inputs.0)) }
    /// The second input. - Precondition: the op was recorded with one.
    @inlinable @inline(__always) public var b: TapeValue<Scalar> { TapeValue(storage: storage, index: Int(storage.pointee.entries[entry].inputs.1)) }
    /// The third input. - Precondition: the op was recorded with one.
    @inlinable @inline(__always) public var c: TapeValue<Scalar> { TapeValue(storage: storage, index: Int(storage.pointee.entries[entry].inputs.2)) }
    /// The scalar constant recorded with the op.
    @inlinable public var auxScalar: Scalar { storage.pointee.entries[entry].auxScalar }
    /// The integer constant recorded with the op.
    @inlinable public var auxInt: Int { storage.pointee.entries[entry].auxInt }
    /// The scalars the forward saved for the pullback (as many as were asked for).
    @inlinable public var savedScalars: UnsafeMutablePointer<Scalar> {
        storage.pointee.values + storage.pointee.entries[entry].savedOffset
    }
    /// The integers the forward saved for the pullback (as many as were asked for).
    @inlinable public var savedInts: UnsafeMutablePointer<Int> {
        storage.pointee.ints + storage.pointee.userSavedIntOffset(entry)
    }
    /// The number of inputs the op was recorded with.
    @inlinable public var inputCount: Int { storage.pointee.inputCount(entry) }
    /// Input `i` (0 is ``a``), for ops recorded with a list of inputs
    /// (``Tape/record(_:shape:inputs:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)``).
    @inlinable public func input(_ i: Int) -> TapeValue<Scalar> {
        TapeValue(storage: storage, index: storage.pointee.input(i, of: entry))
    }
    /// The thread limit for matrix products recorded on this tape (``Tape/matrixThreads``),
    /// nil for the process-wide ``ComputeSettings/maxThreads``.
    @inlinable public var matrixThreads: Int? { storage.pointee.matrixThreads }
    /// Temporary memory for `count` scalars, valid until this forward or pullback returns.
    @inlinable
    public func scratch(_ count: Int) -> UnsafeMutablePointer<Scalar> {
        storage.pointee.scratchBuffer(count)
    }
}
