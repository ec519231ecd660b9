/// A Wengert list: every operation on a ``Variable`` appends one entry, in execution order;
/// ``backward(_:seed:)`` walks the entries once in reverse and accumulates gradients (a
/// variable used twice receives the sum of both contributions).
///
/// Parameters created with ``parameter(_:)`` live at the front of the tape and survive
/// ``reset()``; everything recorded after them is dropped by `reset()` while the tape keeps its
/// memory, so a training loop of many steps allocates nothing once warm.
///
/// A tape is used by one thread at a time; use one tape per thread to work in parallel (tapes
/// share only a locked pool of storage headers, touched when a tape is created or freed).
///
/// Parameters and constants keep their tape alive; results of ops do not (see ``Variable``), so
/// keep the tape, or a parameter of it, while you use its results.
///
/// ```swift
/// let tape = Tape<Double>()
/// let x = tape.parameter(3)
/// let loss = (x * x - 2).squared()
/// tape.backward(loss)
/// print(x.gradient)          // d/dx (x² - 2)² = 4x(x² - 2) = 84
/// ```
public final class Tape<Scalar: TensorScalar> {
    /// A pullback: reads the gradient of an op's output from its context and adds the
    /// gradients of its inputs (`+=`).
    public typealias Pullback = (OpContext<Scalar>) -> Void

    @usableFromInline let storage: UnsafeMutablePointer<TapeStorage<Scalar>>

    /// An empty tape.
    public init() {
        storage = TapeHeaderPool.take(Scalar.self)
        storage.pointee.owner = Unmanaged.passUnretained(self)
    }

    deinit {
        TapeHeaderPool.retire(storage)
    }

    /// The number of entries (parameters included).
    public var count: Int { storage.pointee.count }

    /// The most threads a matrix product on this tape may use; nil (the default) follows
    /// ``ComputeSettings/maxThreads``. Set it to 1 when tapes already run on several threads.
    public var matrixThreads: Int? {
        get { storage.pointee.matrixThreads }
        set { storage.pointee.matrixThreads = newValue.map { max(1, $0) } }
    }

    /// Whether operations record pullbacks. Inside ``withoutGradients(_:)`` it is false.
    public var isRecording: Bool { storage.pointee.recording }

    // MARK: Leaves

    /// A trainable parameter that survives ``reset()``: its value stays on the tape, is changed
    /// in place by ``update(_:_:)`` or ``assign(_:to:)``, and its gradient is fresh after each
    /// backward pass. Create parameters before recording operations (or right after a reset).
    public func parameter(_ value: Tensor<Scalar>) -> Variable<Scalar> {
        persistentLeaf(value, requiresGradient: true, op: "parameter")
    }

    /// A constant that survives ``reset()`` (a full-batch training set, say), so it is copied
    /// onto the tape once instead of every step. Same rules as ``parameter(_:)``.
    public func persistentConstant(_ value: Tensor<Scalar>) -> Variable<Scalar> {
        persistentLeaf(value, requiresGradient: false, op: "persistentConstant")
    }

    func persistentLeaf(_ value: Tensor<Scalar>, requiresGradient: Bool, op: StaticString) -> Variable<Scalar> {
        Failure.check(
            storage.pointee.count == storage.pointee.persistentCount,
            "\(op): create parameters and persistent constants before recording operations (call reset() first)")
        let variable = leaf(value, requiresGradient: requiresGradient, op: op)
        storage.pointee.persistentCount = storage.pointee.count
        storage.pointee.persistentValuesUsed = storage.pointee.valuesUsed
        storage.pointee.persistentIntsUsed = storage.pointee.intsUsed
        return Variable(storage: storage, index: Int(variable.index), generation: 0, owner: self)
    }

    /// A trainable leaf that lives until the next ``reset()``.
    public func variable(_ value: Tensor<Scalar>) -> Variable<Scalar> {
        leaf(value, requiresGradient: true, op: "variable")
    }

    /// A constant (input, label): recorded for use in ops, never given a gradient.
    public func constant(_ value: Tensor<Scalar>) -> Variable<Scalar> {
        leaf(value, requiresGradient: false, op: "constant")
    }

    /// A scalar constant.
    @inlinable
    public func constant(_ value: Scalar) -> Variable<Scalar> {
        let index = storage.pointee.append(op: "constant",
            shape: [], inputs: (-1, -1, -1), requiresGradient: false, auxScalar: 0, auxInt: 0,
            savedScalars: 0, savedInts: 0)
        storage.pointee.values[storage.pointee.entries[index].valueOffset] = value
        storage.pointee.replayKinds[index] = .leaf
        return Variable(storage: storage, index: index, generation: storage.pointee.generation, owner: self)
    }

    /// ``constant(shape:copying:)`` for a matrix `[rows, columns]`, without a shape array: how
    /// a trainer's minibatch reaches the tape with no allocation per step.
    @usableFromInline package func constant(rows: Int, columns: Int, copying source: UnsafeBufferPointer<Scalar>) -> Variable<Scalar> {
        Failure.check(rows >= 0 && columns >= 0 && rows.multipliedReportingOverflow(by: columns) == (source.count, false),
                      "constant: shape [\(rows), \(columns)] needs \(rows * columns) scalars, got \(source.count)")
        let index = storage.pointee.append(op: "constant", rows: rows, columns: columns, inputs: (-1, -1, -1),
                                           requiresGradient: false, auxScalar: 0, auxInt: 0, savedScalars: 0, savedInts: 0)
        if let base = source.baseAddress {
            (storage.pointee.values + storage.pointee.entries[index].valueOffset).update(from: base, count: source.count)
        }
        storage.pointee.replayKinds[index] = .leaf
        return Variable(storage: storage, index: index, generation: storage.pointee.generation, owner: self)
    }

    /// A constant filled from a buffer of `shape` (row-major), without building a Tensor first;
    /// this is how minibatches reach the tape without an allocation per step.
    public func constant(shape: [Int], copying source: UnsafeBufferPointer<Scalar>) -> Variable<Scalar> {
        Failure.check(ShapeMath.checkedCount(shape, op: "constant") == source.count,
                     "constant: shape \(ShapeMath.describe(shape)) needs \(ShapeMath.count(shape)) scalars, got \(source.count)")
        let index = storage.pointee.append(op: "constant",
            shape: shape, inputs: (-1, -1, -1), requiresGradient: false, auxScalar: 0, auxInt: 0,
            savedScalars: 0, savedInts: 0)
        if let base = source.baseAddress {
            (storage.pointee.values + storage.pointee.entries[index].valueOffset).update(from: base, count: source.count)
        }
        storage.pointee.replayKinds[index] = .leaf
        return Variable(storage: storage, index: index, generation: storage.pointee.generation, owner: self)
    }

    func leaf(_ value: Tensor<Scalar>, requiresGradient: Bool, op: StaticString) -> Variable<Scalar> {
        let index = storage.pointee.append(op: op, 
            shape: value.shape, inputs: (-1, -1, -1), requiresGradient: requiresGradient,
            auxScalar: 0, auxInt: 0, savedScalars: 0, savedInts: 0)
        storage.pointee.replayKinds[index] = .leaf
        value.withUnsafeBufferPointer { source in
            (storage.pointee.values + storage.pointee.entries[index].valueOffset)
                .update(from: source.baseAddress!, count: source.count)
        }
        return Variable(storage: storage, index: index, generation: storage.pointee.generation, owner: self)
    }

    // MARK: Recording

    /// Records one operation: appends an entry of `shape` for the result, runs `forward` to
    /// write its value (and anything it saves), and keeps `pullback` for ``backward(_:seed:)``
    /// if any input needs a gradient. Every built-in op is written with this helper, and users
    /// can write their own the same way.
    ///
    /// - Parameters:
    ///   - op: the op's name, used in error messages.
    ///   - shape: the result's shape.
    ///   - a: the first input (on this tape).
    ///   - b: a second input, if any.
    ///   - c: a third input, if any.
    ///   - auxScalar: a small constant the pullback needs (an exponent).
    ///   - auxInt: an integer constant the pullback needs (an axis).
    ///   - savedScalars: scalars the forward may save for the pullback (``OpContext/savedScalars``).
    ///   - savedInts: integers the forward may save for the pullback (``OpContext/savedInts``).
    ///   - forward: writes the result's value (``OpContext/output``) from the inputs.
    ///   - pullback: adds the inputs' gradients from the output's (`+=`).
    @inlinable @inline(__always)
    public func record(
        _ op: StaticString, shape: [Int],
        _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil, _ c: Variable<Scalar>? = nil,
        auxScalar: Scalar = 0, auxInt: Int = 0, savedScalars: Int = 0, savedInts: Int = 0,
        forward: (OpContext<Scalar>) -> Void,
        pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, c)
        let index = storage.pointee.append(op: op,
            shape: shape, inputs: inputs, requiresGradient: needsGradient, auxScalar: auxScalar,
            auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts)
        return finishRecording(index, needsGradient, forward, pullback)
    }

    /// ``record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)`` for an
    /// op of any number of inputs (concatenation, stacking, a sum of many terms): the forward
    /// and the pullback reach them as ``OpContext/input(_:)``, with ``OpContext/inputCount``.
    public func record(
        _ op: StaticString, shape: [Int], inputs: [Variable<Scalar>],
        auxScalar: Scalar = 0, auxInt: Int = 0, savedScalars: Int = 0, savedInts: Int = 0,
        forward: (OpContext<Scalar>) -> Void,
        pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        if inputs.isEmpty { Failure.stop("\(op): an op needs at least one input") }
        var needsGradient = false
        for input in inputs {
            validate(input, op)
            needsGradient = needsGradient || storage.pointee.entries[Int(input.index)].requiresGradient
        }
        needsGradient = needsGradient && storage.pointee.recording
        let first = inputs.prefix(3).map(\.index) + [Int32](repeating: -1, count: Swift.max(0, 3 - inputs.count))
        let index = storage.pointee.append(op: op,
            shape: shape, inputs: (first[0], first[1], first[2]), requiresGradient: needsGradient,
            auxScalar: auxScalar, auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts + 1 + inputs.count)
        let list = storage.pointee.ints + storage.pointee.entries[index].savedIntOffset
        list[0] = inputs.count
        for (i, input) in inputs.enumerated() { list[1 + i] = Int(input.index) }
        storage.pointee.entries[index].flags |= TapeEntry<Scalar>.inputListFlag
        return finishRecording(index, needsGradient, forward, pullback)
    }

    /// ``record(_:shape:inputs:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)`` with a
    /// forward a compiled program can run again.
    @usableFromInline
    func record<Kernel: ForwardKernel>(
        _ op: StaticString, shape: [Int], inputs: [Variable<Scalar>], auxInt: Int = 0, kernel: Kernel.Type,
        pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        let result = record(op, shape: shape, inputs: inputs, auxInt: auxInt, forward: { Kernel.forward($0) }, pullback: pullback)
        storage.pointee.markKernel(Int(result.index), Kernel.self)
        return result
    }

    /// ``record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)`` for a
    /// result of shape `[rows, columns]`, without building a shape array.
    @inlinable @inline(__always)
    func record(
        _ op: StaticString, rows: Int, columns: Int,
        _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil, _ c: Variable<Scalar>? = nil, auxInt: Int = 0,
        forward: (OpContext<Scalar>) -> Void,
        pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, c)
        let index = storage.pointee.append(op: op, rows: rows, columns: columns, inputs: inputs, requiresGradient: needsGradient,
                                           auxScalar: 0, auxInt: auxInt, savedScalars: 0, savedInts: 0)
        return finishRecording(index, needsGradient, forward, pullback)
    }

    /// ``record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)`` for an
    /// op whose result has the shape of its first input.
    @inlinable @inline(__always)
    public func record(
        _ op: StaticString, shapeOfFirstInput a: Variable<Scalar>, _ b: Variable<Scalar>? = nil,
        _ c: Variable<Scalar>? = nil,
        auxScalar: Scalar = 0, auxInt: Int = 0, savedScalars: Int = 0, savedInts: Int = 0,
        forward: (OpContext<Scalar>) -> Void,
        pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, c)
        let index = storage.pointee.append(op: op,
            shapeOf: Int(a.index), inputs: inputs, requiresGradient: needsGradient, auxScalar: auxScalar,
            auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts)
        return finishRecording(index, needsGradient, forward, pullback)
    }

    /// ``record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)`` for a
    /// built-in op whose forward is `kernel`: a compiled program can run it again. `save` writes
    /// what the kernel reads besides the inputs (labels, indices) to the saved ints, once.
    @inlinable @inline(__always)
    func record<Kernel: ForwardKernel>(
        _ op: StaticString, shape: [Int],
        _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil, _ c: Variable<Scalar>? = nil,
        auxScalar: Scalar = 0, auxInt: Int = 0, savedScalars: Int = 0, savedInts: Int = 0,
        kernel: Kernel.Type, saving save: (OpContext<Scalar>) -> Void = { _ in }, pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, c)
        let index = storage.pointee.append(op: op,
            shape: shape, inputs: inputs, requiresGradient: needsGradient, auxScalar: auxScalar,
            auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts)
        storage.pointee.markKernel(index, Kernel.self)
        return finishRecording(index, needsGradient, { save($0); Kernel.forward($0) }, pullback)
    }

    /// The same for a result of shape `[rows, columns]`, without building a shape array.
    @inlinable @inline(__always)
    func record<Kernel: ForwardKernel>(
        _ op: StaticString, rows: Int, columns: Int,
        _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil, _ c: Variable<Scalar>? = nil, auxInt: Int = 0,
        kernel: Kernel.Type, pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, c)
        let index = storage.pointee.append(op: op, rows: rows, columns: columns, inputs: inputs, requiresGradient: needsGradient,
                                           auxScalar: 0, auxInt: auxInt, savedScalars: 0, savedInts: 0)
        storage.pointee.markKernel(index, Kernel.self)
        return finishRecording(index, needsGradient, { Kernel.forward($0) }, pullback)
    }

    /// ``record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)`` for
    /// a built-in op whose pullback is `rule` (no closure is stored).
    @inlinable @inline(__always)
    func record(
        _ op: StaticString, shape: [Int], _ a: Variable<Scalar>, _ b: Variable<Scalar>? = nil,
        auxScalar: Scalar = 0, rule: RuleCode, forward: (OpContext<Scalar>) -> Void
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, nil)
        let index = storage.pointee.append(op: op,
            shape: shape, inputs: inputs, requiresGradient: needsGradient, auxScalar: auxScalar,
            auxInt: 0, savedScalars: 0, savedInts: 0)
        return finishRecording(index, rule: rule, forward)
    }

    /// The same for a built-in op whose result has the shape of its first input.
    @inlinable @inline(__always)
    func record(
        _ op: StaticString, shapeOfFirstInput a: Variable<Scalar>, _ b: Variable<Scalar>? = nil,
        auxScalar: Scalar = 0, rule: RuleCode, forward: (OpContext<Scalar>) -> Void
    ) -> Variable<Scalar> {
        let (inputs, needsGradient) = recordedInputs(op, a, b, nil)
        let index = storage.pointee.append(op: op,
            shapeOf: Int(a.index), inputs: inputs, requiresGradient: needsGradient, auxScalar: auxScalar,
            auxInt: 0, savedScalars: 0, savedInts: 0)
        return finishRecording(index, rule: rule, forward)
    }

    @inlinable @inline(__always)
    func finishRecording(_ index: Int, rule: RuleCode, _ forward: (OpContext<Scalar>) -> Void) -> Variable<Scalar> {
        forward(OpContext(storage: storage, entry: index))
        storage.pointee.endScratch()
        storage.pointee.entries[index].rule = rule
        if rule != .none { storage.pointee.replayKinds[index] = .rule }
        if storage.pointee.anomalyDetection != .off { storage.pointee.checkForward(index) }
        return Variable(storage: storage, index: index, generation: storage.pointee.generation)
    }

    @inlinable @inline(__always)
    func recordedInputs(
        _ op: StaticString, _ a: Variable<Scalar>, _ b: Variable<Scalar>?, _ c: Variable<Scalar>?
    ) -> ((Int32, Int32, Int32), Bool) {
        validate(a, op)
        var needsGradient = storage.pointee.entries[Int(a.index)].requiresGradient
        var inputs: (Int32, Int32, Int32) = (a.index, -1, -1)
        if let b {
            validate(b, op)
            needsGradient = needsGradient || storage.pointee.entries[Int(b.index)].requiresGradient
            inputs.1 = b.index
        }
        if let c {
            validate(c, op)
            needsGradient = needsGradient || storage.pointee.entries[Int(c.index)].requiresGradient
            inputs.2 = c.index
        }
        return (inputs, needsGradient && storage.pointee.recording)
    }

    @inlinable @inline(__always)
    func finishRecording(
        _ index: Int, _ needsGradient: Bool, _ forward: (OpContext<Scalar>) -> Void, _ pullback: @escaping Pullback
    ) -> Variable<Scalar> {
        forward(OpContext(storage: storage, entry: index))
        storage.pointee.endScratch()
        if needsGradient {
            storage.pointee.pullbacks[index] = TapeStorage<Scalar>.StoredPullback(pullback)
            storage.pointee.entries[index].rule = .storedClosure
        }
        if storage.pointee.anomalyDetection != .off { storage.pointee.checkForward(index) }
        return Variable(storage: storage, index: index, generation: storage.pointee.generation)
    }

    /// Stops when `variable` is from another tape or from before the last reset.
    @inlinable @inline(__always)
    public func validate(_ variable: Variable<Scalar>, _ op: StaticString) {
        if variable.storage != storage || variable.tapeID != storage.pointee.tapeID {
            variable.checkTapeExists(op)
            Variable<Scalar>.onAnotherTape(op)
        }
        variable.checkUsable(op)
    }

    // MARK: Backward

    /// Computes the gradient of `loss` with respect to every trainable variable it depends on.
    /// Without `seed`, `loss` must hold one element (its gradient is 1); with a seed of the same
    /// shape, the result is the vector-Jacobian product seedᵀ·J.
    @inlinable
    public func backward(_ loss: Variable<Scalar>, seed: Tensor<Scalar>? = nil) {
        validate(loss, "backward")
        let s = storage
        if s.pointee.compiling { s.pointee.replayBlocker = "the function runs a backward pass" }
        let lossEntry = s.pointee.entries[Int(loss.index)]
        if let seed {
            Failure.check(seed.shape == s.pointee.shape(Int(loss.index)),
                         "backward: seed of shape \(ShapeMath.describe(seed.shape)) for a loss of shape \(ShapeMath.describe(s.pointee.shape(Int(loss.index))))")
        } else {
            Failure.check(lossEntry.count == 1,
                         "backward: the loss has shape \(ShapeMath.describe(s.pointee.shape(Int(loss.index)))), not a single element; pass a seed of that shape")
        }
        Failure.check(lossEntry.requiresGradient,
                      "backward: the loss does not depend on any trainable variable (it was computed inside withoutGradients, or from constants only), so there is no gradient to compute")
        prepareGradients(upTo: Int(loss.index))
        let gradients = s.pointee.gradients.unsafelyUnwrapped
        if let seed {
            seed.withUnsafeBufferPointer { p in
                (gradients + lossEntry.valueOffset).update(from: p.baseAddress!, count: p.count)
            }
            // The seed overwrote all of the loss's gradient.
            _ = s.pointee.claimPendingGradient(Int(loss.index))
        } else {
            gradients[lossEntry.valueOffset] = 1
        }
        s.pointee.inBackward = true
        // Pullbacks never record, so the arenas stay where they are; the pointers are reloaded
        // after a general pullback all the same, since it runs code the tape does not know.
        var entries = s.pointee.entries
        var values = s.pointee.values
        var last = LastGradient<Scalar>()
        var index = Int(loss.index)
        let detecting = s.pointee.anomalyDetection != .off
        while index >= 0 {
            let entry = entries[index]
            if entry.requiresGradient && entry.rule != .none {
                if entry.isScalarOp {
                    entry.rule.runScalar(entry, entries: entries, values: values, gradients: gradients, last: &last)
                } else {
                    runTensorPullback(index, entry)
                    entries = s.pointee.entries
                    values = s.pointee.values
                    last.forget()
                }
                if detecting { s.pointee.checkBackward(index) }
            }
            index &-= 1
        }
        s.pointee.inBackward = false
        if s.pointee.pendingGradients > 0 { zeroPendingGradients(upTo: Int(loss.index)) }
        s.pointee.gradientGeneration = s.pointee.generation
        s.pointee.gradientLimit = Int(loss.index)
    }

    /// Runs the pullback of entry `index` (not a rank-0 rule result): its stored closure or its
    /// rule on tensors, then frees its scratch memory.
    @inlinable @inline(__always)
    func runTensorPullback(_ index: Int, _ entry: TapeEntry<Scalar>) {
        let s = storage
        if entry.rule == .storedClosure {
            s.pointee.pullbacks[index].unsafelyUnwrapped.body(OpContext(storage: s, entry: index))
        } else {
            entry.rule.runOnTensors(OpContext(storage: s, entry: index))
        }
        s.pointee.endScratch()
    }

    /// Zeroes the gradients no pullback reached (of parameters the loss does not use, say).
    @usableFromInline @inline(never)
    func zeroPendingGradients(upTo last: Int) {
        let s = storage
        for index in 0...last where s.pointee.claimPendingGradient(index) {
            let entry = s.pointee.entries[index]
            (s.pointee.gradients.unsafelyUnwrapped + entry.valueOffset).update(repeating: 0, count: entry.count)
        }
    }

    /// Makes the gradient arena as large as the value arena and zeroes the gradients of the
    /// entries up to `last` that take one (constants, however large, cost nothing); larger
    /// gradients are marked pending instead, zeroed or overwritten by the first pullback to
    /// reach them (see ``TapeEntry/gradientPendingFlag``), while they are in cache anyway.
    @inlinable @inline(__always)
    func prepareGradients(upTo last: Int) {
        let s = storage
        if s.pointee.gradientsCapacity < s.pointee.valuesCapacity {
            s.pointee.gradients?.deallocate()
            s.pointee.gradients = .allocate(capacity: s.pointee.valuesCapacity)
            s.pointee.gradientsCapacity = s.pointee.valuesCapacity
        }
        let gradients = s.pointee.gradients.unsafelyUnwrapped
        let entries = s.pointee.entries
        var index = 0
        while index <= last {
            let entry = entries[index]
            index &+= 1
            guard entry.requiresGradient else { continue }
            // A call to memset costs more than the stores for the scalars of a scalar step.
            if entry.count == 1 {
                gradients[entry.valueOffset] = 0
            } else if entry.count <= 8 {
                for i in 0..<entry.count { gradients[entry.valueOffset &+ i] = 0 }
            } else if !entry.isGradientPending {
                entries[index &- 1].flags |= TapeEntry<Scalar>.gradientPendingFlag
                s.pointee.pendingGradients &+= 1
            }
        }
    }

    // MARK: Reading and writing values

    /// Drops every entry except the parameters, keeping all memory for reuse. Variables
    /// recorded before the reset (other than parameters) must not be used afterwards.
    @inlinable
    public func reset() {
        if storage.pointee.compiling { storage.pointee.replayBlocker = "the function resets the tape" }
        storage.pointee.reset()
    }

    /// Drops every entry, parameters included.
    public func removeAll() {
        if storage.pointee.compiling { storage.pointee.replayBlocker = "the function resets the tape" }
        storage.pointee.persistentCount = 0
        storage.pointee.persistentValuesUsed = 0
        storage.pointee.persistentIntsUsed = 0
        storage.pointee.reset()
    }

    /// Runs `body` with recording of pullbacks switched off: ops compute values only, for
    /// evaluation and inference.
    public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        let saved = storage.pointee.recording
        storage.pointee.recording = false
        defer { storage.pointee.recording = saved }
        return try body()
    }

    /// The shape of a variable's value.
    @inlinable
    public func shape(of variable: Variable<Scalar>) -> [Int] {
        validate(variable, "shape")
        return storage.pointee.shape(Int(variable.index))
    }

    /// A copy of a variable's value.
    public func value(of variable: Variable<Scalar>) -> Tensor<Scalar> {
        validate(variable, "value")
        if storage.pointee.compiling { storage.pointee.noteValueRead(Int(variable.index)) }
        let entry = storage.pointee.entries[Int(variable.index)]
        return Tensor(shape: storage.pointee.shape(Int(variable.index))) { out in
            out.baseAddress!.update(from: storage.pointee.values + entry.valueOffset, count: entry.count)
        }
    }

    /// A copy of a variable's gradient from the last backward pass (zeros where the loss does
    /// not depend on it).
    public func gradient(of variable: Variable<Scalar>) -> Tensor<Scalar> {
        withGradient(of: variable) { gradient in
            Tensor(shape: storage.pointee.shape(Int(variable.index))) { out in
                out.baseAddress!.update(from: gradient.baseAddress!, count: gradient.count)
            }
        }
    }

    /// Calls `body` with a variable's gradient from the last backward pass, without copying.
    @inlinable
    public func withGradient<R>(of variable: Variable<Scalar>, _ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        validate(variable, "gradient")
        let entry = storage.pointee.entries[Int(variable.index)]
        Failure.check(entry.requiresGradient, "gradient: the variable is a constant and has no gradient")
        Failure.check(storage.pointee.gradientGeneration == storage.pointee.generation,
                     "gradient: call backward(_:) first (no gradients since the last reset)")
        Failure.check(Int(variable.index) <= storage.pointee.gradientLimit,
                     "gradient: the variable was recorded after the loss of the last backward pass")
        return try body(UnsafeBufferPointer(start: storage.pointee.gradients.unsafelyUnwrapped + entry.valueOffset, count: entry.count))
    }

    /// Changes a parameter in place from its value and gradient: what an optimizer step does.
    /// `body` receives (value, gradient); the gradient is that of the last backward pass.
    @inlinable
    public func update(
        _ parameter: Variable<Scalar>,
        _ body: (UnsafeMutableBufferPointer<Scalar>, UnsafeBufferPointer<Scalar>) throws -> Void
    ) rethrows {
        Failure.check(parameter.generation == 0, "update: only parameters can be changed in place")
        try withGradient(of: parameter) { gradient in
            let entry = storage.pointee.entries[Int(parameter.index)]
            try body(UnsafeMutableBufferPointer(start: storage.pointee.values + entry.valueOffset, count: entry.count), gradient)
        }
    }

    /// Replaces a parameter's value (same shape), e.g. when loading a checkpoint.
    public func assign(_ value: Tensor<Scalar>, to parameter: Variable<Scalar>) {
        validate(parameter, "assign")
        Failure.check(parameter.generation == 0, "assign: only parameters can be assigned")
        let shape = storage.pointee.shape(Int(parameter.index))
        Failure.check(value.shape == shape,
                     "assign: value of shape \(ShapeMath.describe(value.shape)) for a parameter of shape \(ShapeMath.describe(shape))")
        let entry = storage.pointee.entries[Int(parameter.index)]
        value.withUnsafeBufferPointer { p in
            (storage.pointee.values + entry.valueOffset).update(from: p.baseAddress!, count: p.count)
        }
    }

    /// Calls `body` with a parameter's gradient for writing (e.g. to combine gradients of
    /// several tapes before an update).
    @inlinable
    public func withMutableGradient<R>(of parameter: Variable<Scalar>, _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try withGradient(of: parameter) { gradient in
            try body(UnsafeMutableBufferPointer(mutating: gradient))
        }
    }

    /// Calls `body` with a parameter's value for writing, without copying.
    @inlinable
    public func withMutableValue<R>(of parameter: Variable<Scalar>, _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        validate(parameter, "value")
        Failure.check(parameter.generation == 0, "value: only parameters can be changed in place")
        let entry = storage.pointee.entries[Int(parameter.index)]
        return try body(UnsafeMutableBufferPointer(start: storage.pointee.values + entry.valueOffset, count: entry.count))
    }

    /// Calls `body` with a variable's value in place, without copying.
    @inlinable
    public func withValue<R>(of variable: Variable<Scalar>, _ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        validate(variable, "value")
        if storage.pointee.compiling { storage.pointee.noteValueRead(Int(variable.index)) }
        let entry = storage.pointee.entries[Int(variable.index)]
        return try body(UnsafeBufferPointer(start: storage.pointee.values + entry.valueOffset, count: entry.count))
    }
}
