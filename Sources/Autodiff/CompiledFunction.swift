/// What a ``CompiledFunction`` does when a value that the function's code read while it was
/// recorded (`.scalar`, `.value`, `withValue`: the input of an `if`, a loop bound) is different
/// on a later call, so that the recorded branches may not be the ones the code would take now.
public enum ChangedDecisionPolicy: Sendable {
    /// Record the function again at the new point (the default): always right, and as slow as
    /// a fresh tape for that call.
    case recordAgain
    /// Stop with a message naming the value read, where it was recorded, and what to do.
    case stop
}

/// A function of variables recorded once and replayed on new inputs: each call runs the
/// recorded forwards again over the same memory, then one backward pass, without recording,
/// checking shapes or allocating (``valueWithGradient(at:into:)``). This is how code that
/// evaluates one function thousands of times (an optimiser, a sampler, a simulation) gets its
/// gradients at close to the speed of the arithmetic.
///
/// ```swift
/// let energy = CompiledFunction(at: [positions]) { x in ljEnergy(x[0]) }
/// let (e, forces) = energy.valueWithGradients(at: [newPositions])
/// ```
///
/// **The rule of a recording.** A replay repeats the ops the function recorded, whatever the
/// new inputs are. Ops that branch inside (`relu`, `abs`, `max`, `clamp`, masks, `select`) stay
/// right for every input. A decision the Swift code takes on a traced value (an `if` on
/// `x.scalar`, a loop until `error.value` is small) is noted while recording: every replay
/// compares each value the code read with the value it read then, and when one differs it
/// records again at the new point (``ChangedDecisionPolicy/recordAgain``) or stops naming the
/// read (``ChangedDecisionPolicy/stop``). A replayed gradient is therefore never one of another
/// branch. To keep a branch inside the recording, write it as `select(condition, a, b)`.
/// Inputs of new shapes record again, as `jax.jit` traces again.
///
/// Ops recorded with a closure (``Tape/record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)``
/// and the few built-in ops still written that way, such as convolutions and dropout) cannot be
/// replayed: such a function records on every call, and ``replayBlocker`` says why.
///
/// **Threads.** A compiled function holds the memory its replays run in, so it is not
/// `Sendable`: Swift 6 refuses to share one between tasks or threads at compile time (never a
/// data race). For parallel evaluations, make one in each task; they share nothing.
public final class CompiledFunction<Scalar: TensorScalar> {
    @usableFromInline let function: ([Variable<Scalar>]) -> Variable<Scalar>
    @usableFromInline let policy: ChangedDecisionPolicy
    @usableFromInline let fusing: Bool
    @usableFromInline let tape = Tape<Scalar>()
    /// The tape's storage (it lives as long as the tape), read without touching the tape.
    @usableFromInline let storage: UnsafeMutablePointer<TapeStorage<Scalar>>
    /// The recording and the counters, behind a pointer: stored properties of a class would pay
    /// a runtime exclusivity check on every access (as ``TapeStorage`` does for the tape).
    @usableFromInline let program: UnsafeMutablePointer<RecordedProgram<Scalar>>

    /// Records `function` of several inputs at `inputs` (their values and shapes).
    /// - Parameters:
    ///   - inputs: where to record: the inputs' values and shapes.
    ///   - onChangedDecision: what a call does when a value the code read while recording
    ///     differs (``ChangedDecisionPolicy``).
    ///   - fusing: run chains of elementwise ops over one shape, and the sum that ends a chain,
    ///     block by block, without writing the intermediates (off by default: measured, it does
    ///     not beat op-by-op replay yet, see `bench fusion`). Sums over broadcast operands and a
    ///     fused total are then added in another order than on a tape (a few ulps); without
    ///     fusion a replay gives the tape's bits.
    ///   - function: the function of variables (one element for the gradient forms).
    public init(at inputs: [Tensor<Scalar>], onChangedDecision: ChangedDecisionPolicy = .recordAgain, fusing: Bool = false,
                _ function: @escaping ([Variable<Scalar>]) -> Variable<Scalar>) {
        self.function = function
        self.policy = onChangedDecision
        self.fusing = fusing
        storage = tape.storage
        program = .allocate(capacity: 1)
        program.initialize(to: RecordedProgram(output: tape.constant(0)))
        record(at: inputs)
    }

    /// Records `function` of one input at `x`.
    public convenience init(at x: Tensor<Scalar>, onChangedDecision: ChangedDecisionPolicy = .recordAgain, fusing: Bool = false,
                            _ function: @escaping (Variable<Scalar>) -> Variable<Scalar>) {
        self.init(at: [x], onChangedDecision: onChangedDecision, fusing: fusing) { function($0[0]) }
    }

    /// How many regions of elementwise ops the recording runs fused.
    public var fusedRegions: Int { program.pointee.fusion.regions.count }

    deinit {
        program.pointee.releaseFusionMemory()
        program.deinitialize(count: 1)
        program.deallocate()
    }

    /// How many times the function has been recorded (1 after the initializer).
    public var recordings: Int { program.pointee.recordings }
    /// How many calls replayed the recording.
    public var replays: Int { program.pointee.replays }
    /// Why every call records the function again instead of replaying it (an op recorded with
    /// a closure, a backward pass inside the function), or nil when calls replay.
    public var replayBlocker: String? { program.pointee.blocker }

    /// f and the gradient of every input, each shaped like it (zeros when f does not depend on
    /// it). - Precondition: f has one element.
    @inlinable
    public func valueWithGradients(at inputs: [Tensor<Scalar>]) -> (value: Scalar, gradients: [Tensor<Scalar>]) {
        evaluate(at: inputs)
        let value = scalarOutput("valueWithGradients")
        let ran = runBackward(seed: nil)
        return (value, gradients(ran: ran))
    }

    /// f and its gradient for a function of one input.
    @inlinable
    public func valueWithGradient(at x: Tensor<Scalar>) -> (value: Scalar, gradient: Tensor<Scalar>) {
        let (value, gradients) = valueWithGradients(at: [x])
        return (value, gradients[0])
    }

    /// f and its gradients without allocating: `inputs` holds every input's elements one after
    /// the other (row-major, in order), and the gradients are written to `gradient` the same
    /// way. - Precondition: both hold as many elements as the inputs together.
    @inlinable
    public func valueWithGradient(at inputs: UnsafeBufferPointer<Scalar>, into gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        let p = program
        let total = p.pointee.totalCount
        if inputs.count != total || gradient.count != total {
            Failure.stop("CompiledFunction: \(inputs.count) input and \(gradient.count) gradient elements for inputs of \(total)")
        }
        if p.pointee.isScalar && p.pointee.checksNothing {
            return replayScalarProgram(inputs, into: gradient)
        }
        evaluate(flat: inputs)
        let value = scalarOutput("valueWithGradient")
        let s = tape.storage
        if p.pointee.isScalar && p.pointee.blocker == nil {
            // Rank 0 throughout: the pullbacks straight after the forwards, no bookkeeping.
            tape.replayScalarBackward(p.pointee.end - 1)
        } else if !runBackward(seed: nil) {
            gradient.update(repeating: 0)
            return value
        }
        let gradients = s.pointee.gradients.unsafelyUnwrapped
        var offset = 0
        for i in 0..<p.pointee.inputCount {
            let entry = s.pointee.entries[i]
            (gradient.baseAddress.unsafelyUnwrapped + offset).update(from: gradients + entry.valueOffset, count: entry.count)
            offset &+= entry.count
        }
        return value
    }

    /// ``valueWithGradient(at:into:)`` for a program of rank-0 leaves and rule results with no
    /// decision to check (the step of scalar code): inputs in, the forwards, the pullbacks,
    /// gradients out, nothing else.
    @inlinable
    func replayScalarProgram(_ inputs: UnsafeBufferPointer<Scalar>, into gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        let p = program
        let s = storage
        let entries = s.pointee.entries
        let values = s.pointee.values
        let inputCount = p.pointee.inputCount
        for i in 0..<inputCount { values[entries[i].valueOffset] = inputs[i] }
        let last = p.pointee.end &- 1
        for index in inputCount...last {
            let entry = entries[index]
            guard entry.isScalarOp else { continue }
            let x = values[entries[Int(entry.inputs.0)].valueOffset]
            let second = Int(entry.inputs.1)
            let z = second < 0 ? x : values[entries[second].valueOffset]
            values[entry.valueOffset] = RuleTable.dispatch(entry.rule, to: ScalarValue(x: x, z: z, c: entry.auxScalar))
        }
        tape.replayScalarBackward(last)
        let gradients = s.pointee.gradients.unsafelyUnwrapped
        for i in 0..<inputCount { gradient[i] = gradients[entries[i].valueOffset] }
        p.pointee.calls &+= 1
        p.pointee.replays &+= 1
        return values[entries[last].valueOffset]
    }

    /// f at `inputs`, without a backward pass.
    @inlinable
    public func value(at inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
        evaluate(at: inputs)
        return tape.value(of: program.pointee.output)
    }

    /// f at `inputs` and its pullback: a cotangent shaped like f ↦ the vector-Jacobian product
    /// for each input. The pullback is valid until the next call of this compiled function.
    @inlinable
    public func vjp(at inputs: [Tensor<Scalar>]) -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> [Tensor<Scalar>]) {
        evaluate(at: inputs)
        let call = program.pointee.calls
        let value = tape.value(of: program.pointee.output)
        return (value, { seed in
            Failure.check(self.program.pointee.calls == call, "CompiledFunction: a pullback used after a later call of its function")
            Failure.check(seed.shape == value.shape,
                          "vjp: a cotangent of shape \(ShapeMath.describe(seed.shape)) for a value of shape \(ShapeMath.describe(value.shape))")
            return self.gradients(ran: self.runBackward(seed: seed))
        })
    }

    // MARK: Recording and replaying

    /// Records the function at `point`: a new program.
    @usableFromInline
    func record(at point: [Tensor<Scalar>]) {
        let s = tape.storage
        let p = program
        tape.removeAll()
        s.pointee.compiling = true
        s.pointee.valueReads = []
        s.pointee.comparisons = []
        s.pointee.replayBlocker = nil
        // Call sites kept, to name a decision's place; NaN in the recording is the function's
        // business (it shows in the value), so anomalies are only recorded, then dropped.
        tape.anomalyDetection = .record
        let inputs = point.map { tape.variable($0) }
        let result = function(inputs)
        s.pointee.compiling = false
        tape.anomalyDetection = .off
        tape.anomaly = nil
        tape.validate(result, "CompiledFunction")
        p.pointee.inputs = inputs
        p.pointee.inputCount = inputs.count
        p.pointee.inputShapes = point.map(\.shape)
        p.pointee.totalCount = point.reduce(0) { $0 + $1.count }
        p.pointee.output = result
        p.pointee.end = Int(result.index) + 1
        p.pointee.isScalar = (0..<p.pointee.end).allSatisfy { s.pointee.entries[$0].count == 1 && s.pointee.entries[$0].rank == 0 }
            && (0..<p.pointee.end).allSatisfy { s.pointee.entries[$0].isScalarOp || s.pointee.entries[$0].rule == .none }
            && s.pointee.entries[p.pointee.end - 1].requiresGradient
        p.pointee.reads = s.pointee.valueReads.map { read in
            let entry = s.pointee.entries[read.entry]
            return (read.entry, read.after, Array(UnsafeBufferPointer(start: s.pointee.values + entry.valueOffset, count: entry.count)))
        }
        p.pointee.comparisons = s.pointee.comparisons
        p.pointee.blocker = s.pointee.replayBlocker
        if p.pointee.blocker == nil, let index = s.pointee.firstUnreplayable(in: 0..<p.pointee.end) {
            p.pointee.blocker = "'\(s.pointee.opName(index))' is recorded with a closure, which cannot run again"
        }
        p.pointee.checksNothing = p.pointee.blocker == nil && p.pointee.reads.isEmpty && p.pointee.comparisons.isEmpty
        p.pointee.releaseFusionMemory()
        p.pointee.fusion = FusionPlan()
        if fusing && p.pointee.blocker == nil && !p.pointee.isScalar {
            let keep = Set(p.pointee.reads.map(\.entry) + p.pointee.comparisons.flatMap { [$0.lhs, $0.rhs] } + [p.pointee.end - 1])
            p.pointee.fusion = s.pointee.planFusion(end: p.pointee.end, keep: keep)
            if !p.pointee.fusion.regions.isEmpty {
                p.pointee.fusionMemory = .allocate(capacity: p.pointee.fusion.scratchScalars)
                if p.pointee.fusion.unitScalars > 0 { p.pointee.fusionUnits = .allocate(capacity: p.pointee.fusion.unitScalars) }
            }
        }
        p.pointee.recordings += 1
    }

    /// Brings the tape to f at `point`: a replay, or a new recording when shapes changed, the
    /// program cannot replay, or a decision changed.
    @inlinable
    func evaluate(at point: [Tensor<Scalar>]) {
        let p = program
        p.pointee.calls &+= 1
        guard p.pointee.blocker == nil, point.count == p.pointee.inputShapes.count,
              zip(point, p.pointee.inputShapes).allSatisfy({ $0.shape == $1 }) else {
            return record(at: point)
        }
        let s = tape.storage
        for (i, value) in point.enumerated() {
            value.withUnsafeBufferPointer { v in
                (s.pointee.values + s.pointee.entries[i].valueOffset).update(from: v.baseAddress!, count: v.count)
            }
        }
        replay { record(at: point) }
    }

    /// ``evaluate(at:)`` for inputs concatenated in one buffer of the recorded sizes.
    @inlinable
    func evaluate(flat: UnsafeBufferPointer<Scalar>) {
        let p = program
        p.pointee.calls &+= 1
        guard p.pointee.blocker == nil else { return record(at: split(flat)) }
        let s = tape.storage
        var offset = 0
        for i in 0..<p.pointee.inputCount {
            let entry = s.pointee.entries[i]
            (s.pointee.values + entry.valueOffset).update(from: flat.baseAddress.unsafelyUnwrapped + offset, count: entry.count)
            offset &+= entry.count
        }
        replay { record(at: split(flat)) }
    }

    /// The inputs in `flat`, as tensors of the recorded shapes.
    @usableFromInline
    func split(_ flat: UnsafeBufferPointer<Scalar>) -> [Tensor<Scalar>] {
        var offset = 0
        return program.pointee.inputShapes.map { shape in
            let count = ShapeMath.count(shape)
            defer { offset += count }
            return Tensor(shape: shape, scalars: Array(flat[offset..<(offset + count)]))
        }
    }

    /// Runs the recorded forwards on the inputs now in place, then checks every decision.
    @inlinable
    func replay(recordAgain: () -> Void) {
        let p = program
        if let memory = p.pointee.fusionMemory {
            tape.replayForward(p.pointee.end, plan: p.pointee.fusion, memory: memory, units: p.pointee.fusionUnits)
        } else {
            tape.replayForward(0..<p.pointee.end)
        }
        p.pointee.replays &+= 1
        if p.pointee.comparisons.isEmpty && p.pointee.reads.isEmpty { return }
        let s = tape.storage
        let flipped = p.pointee.comparisons.firstIndex { $0.evaluate(s) != $0.result }
        let changed = p.pointee.reads.isEmpty ? nil : firstChangedRead()
        guard flipped != nil || changed != nil else { return }
        switch policy {
        case .recordAgain:
            p.pointee.replays &-= 1
            recordAgain()
        case .stop:
            if let flipped { stopAtFlippedComparison(p.pointee.comparisons[flipped]) }
            stopAtChangedDecision(changed!)
        }
    }

    /// The first read whose value differs (bit for bit) from the recording's, or nil.
    @usableFromInline
    func firstChangedRead() -> Int? {
        let s = tape.storage
        let reads = program.pointee.reads
        return reads.indices.first { i in
            let entry = s.pointee.entries[reads[i].entry]
            let now = UnsafeBufferPointer(start: s.pointee.values + entry.valueOffset, count: entry.count)
            return !zip(now, reads[i].value).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        }
    }
    /// Where code ran that had recorded `after` entries: ", after the op at file:line", or "".
    @usableFromInline
    func place(after: Int) -> String {
        let s = tape.storage
        guard after > 0 else { return "" }
        return (s.pointee.site(of: after - 1) ?? s.pointee.nearestSite(before: after - 1)?.site)
            .map { ", after the op at \($0)" } ?? ""
    }

    @usableFromInline
    func stopAtFlippedComparison(_ comparison: RecordedComparison<Scalar>) -> Never {
        let s = tape.storage
        let name = s.pointee.opName(comparison.lhs)
        Failure.stop("CompiledFunction: a comparison of '\(name)' that the function branched on\(place(after: comparison.after)) "
                     + "was \(comparison.result) when it was recorded and is \(!comparison.result) now, so the recorded branch is "
                     + "not the one it would take; write the branch with select(_:_:_:), or compile with onChangedDecision: .recordAgain")
    }

    @usableFromInline
    func stopAtChangedDecision(_ i: Int) -> Never {
        let s = tape.storage
        let read = program.pointee.reads[i]
        let op = s.pointee.opName(read.entry)
        let place = s.pointee.site(of: read.entry).map { " (recorded at \($0))" } ?? ""
        let before = self.place(after: read.after)
        Failure.stop("CompiledFunction: the function read the value of '\(op)'\(place) while it was recorded\(before), "
                     + "and that value is different now, so the recorded branches may not be the ones it would take; "
                     + "write the branch with select(_:_:_:), or compile with onChangedDecision: .recordAgain")
    }

    /// The output's only element. - Precondition: it has one.
    @inlinable
    func scalarOutput(_ op: StaticString) -> Scalar {
        let s = tape.storage
        let index = program.pointee.end - 1
        let entry = s.pointee.entries[index]
        if entry.count != 1 {
            Failure.stop("\(op): the function's value has shape \(ShapeMath.describe(s.pointee.shape(index))), not a single element; use vjp")
        }
        return s.pointee.values[entry.valueOffset]
    }

    /// Runs the backward pass when the output depends on an input; says whether it did.
    @inlinable
    func runBackward(seed: Tensor<Scalar>?) -> Bool {
        let s = tape.storage
        let p = program
        guard s.pointee.entries[p.pointee.end - 1].requiresGradient else { return false }
        if let memory = p.pointee.fusionMemory {
            tape.backward(p.pointee.end - 1, seed: seed, plan: p.pointee.fusion, memory: memory, units: p.pointee.fusionUnits)
        } else {
            tape.backward(p.pointee.output, seed: seed)
        }
        return true
    }

    /// Copies of the inputs' gradients (zeros when no backward pass ran).
    @inlinable
    func gradients(ran: Bool) -> [Tensor<Scalar>] {
        zip(program.pointee.inputs, program.pointee.inputShapes).map { ran ? tape.gradient(of: $0) : .zeros($1) }
    }
}

/// The recording of a ``CompiledFunction``: its inputs and output, the decisions to check, and
/// the counters.
@usableFromInline
struct RecordedProgram<Scalar: TensorScalar> {
    /// The inputs: entries 0..<inputCount, recorded first.
    @usableFromInline var inputs: [Variable<Scalar>] = []
    @usableFromInline var inputCount = 0
    /// Every entry is rank 0, a leaf or a rule result, and the output needs a gradient: a
    /// replay runs ``Tape/replayScalarBackward(_:)``.
    @usableFromInline var isScalar = false
    /// No comparison or value read to check and nothing blocks replays.
    @usableFromInline var checksNothing = false
    @usableFromInline var inputShapes: [[Int]] = []
    /// The elements of all inputs together.
    @usableFromInline var totalCount = 0
    @usableFromInline var output: Variable<Scalar>
    /// Entries 0..<end are the program (the output is the last).
    @usableFromInline var end = 0
    /// The values the code read while recording: the entry, the entry count at the read, a copy.
    @usableFromInline var reads: [(entry: Int, after: Int, value: [Scalar])] = []
    /// The comparisons the code branched on while recording.
    @usableFromInline var comparisons: [RecordedComparison<Scalar>] = []
    /// Why the recording cannot be replayed, or nil.
    @usableFromInline var blocker: String?
    /// Bumped by every call: a pullback from ``CompiledFunction/vjp(at:)`` is valid until the next.
    @usableFromInline var calls = 0
    @usableFromInline var recordings = 0
    @usableFromInline var replays = 0
    /// The fused regions, and the memory their blocks run in (nil without regions).
    @usableFromInline var fusion = FusionPlan()
    @usableFromInline var fusionMemory: UnsafeMutablePointer<Scalar>?
    /// The unit gradients of regions that preaccumulate.
    @usableFromInline var fusionUnits: UnsafeMutablePointer<Scalar>?

    @usableFromInline init(output: Variable<Scalar>) { self.output = output }

    /// Frees the fused regions' memory.
    @usableFromInline
    mutating func releaseFusionMemory() {
        fusionMemory?.deallocate()
        fusionUnits?.deallocate()
        (fusionMemory, fusionUnits) = (nil, nil)
    }
}
