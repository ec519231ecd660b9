import Synchronization

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
/// Calls from several threads are safe: they take turns. For parallel evaluations, give each
/// thread its own compiled function.
public final class CompiledFunction<Scalar: TensorScalar>: @unchecked Sendable {
    @usableFromInline let function: ([Variable<Scalar>]) -> Variable<Scalar>
    @usableFromInline let policy: ChangedDecisionPolicy
    @usableFromInline let lock = Mutex<Void>(())
    @usableFromInline let tape = Tape<Scalar>()
    @usableFromInline var inputs: [Variable<Scalar>] = []
    @usableFromInline var inputShapes: [[Int]] = []
    @usableFromInline var inputCounts: [Int] = []
    @usableFromInline var output: Variable<Scalar>
    /// Entries 0..<programEnd are the program (the output is the last).
    @usableFromInline var programEnd = 0
    /// The values the code read while recording: the entry, the entry count at the read, a copy.
    @usableFromInline var reads: [(entry: Int, after: Int, value: [Scalar])] = []
    /// The comparisons the code branched on while recording.
    @usableFromInline var comparisons: [RecordedComparison<Scalar>] = []
    /// Why the recording cannot be replayed, or nil.
    @usableFromInline var blocker: String?
    /// Bumped by every call: a pullback from ``vjp(at:)`` is valid until the next call.
    @usableFromInline var calls = 0
    @usableFromInline var recordingCount = 0
    @usableFromInline var replayCount = 0
    /// How many times the function has been recorded (1 after the initializer).
    public var recordings: Int { lock.withLock { _ in recordingCount } }
    /// How many calls replayed the recording.
    public var replays: Int { lock.withLock { _ in replayCount } }

    /// Records `function` of several inputs at `inputs` (their values and shapes).
    /// - Parameter onChangedDecision: what a call does when a value the code read while recording
    ///   differs (``ChangedDecisionPolicy``).
    public init(at inputs: [Tensor<Scalar>], onChangedDecision: ChangedDecisionPolicy = .recordAgain,
                _ function: @escaping ([Variable<Scalar>]) -> Variable<Scalar>) {
        self.function = function
        self.policy = onChangedDecision
        output = tape.constant(0)
        record(at: inputs)
    }

    /// Records `function` of one input at `x`.
    public convenience init(at x: Tensor<Scalar>, onChangedDecision: ChangedDecisionPolicy = .recordAgain,
                            _ function: @escaping (Variable<Scalar>) -> Variable<Scalar>) {
        self.init(at: [x], onChangedDecision: onChangedDecision) { function($0[0]) }
    }

    /// Why every call records the function again instead of replaying it (an op recorded with
    /// a closure, a backward pass inside the function), or nil when calls replay.
    public var replayBlocker: String? { lock.withLock { _ in blocker } }

    /// f and the gradient of every input, each shaped like it (zeros when f does not depend on
    /// it). - Precondition: f has one element.
    public func valueWithGradients(at inputs: [Tensor<Scalar>]) -> (value: Scalar, gradients: [Tensor<Scalar>]) {
        lock.withLock { _ in
            evaluate(at: inputs)
            let value = scalarOutput("valueWithGradients")
            return (value, backwardGradients())
        }
    }

    /// f and its gradient for a function of one input.
    public func valueWithGradient(at x: Tensor<Scalar>) -> (value: Scalar, gradient: Tensor<Scalar>) {
        let (value, gradients) = valueWithGradients(at: [x])
        return (value, gradients[0])
    }

    /// f and its gradients without allocating: `inputs` holds every input's elements one after
    /// the other (row-major, in order), and the gradients are written to `gradient` the same
    /// way. - Precondition: both hold as many elements as the inputs together.
    public func valueWithGradient(at inputs: UnsafeBufferPointer<Scalar>, into gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        lock.withLock { _ in
            let total = inputCounts.reduce(0, +)
            Failure.check(inputs.count == total && gradient.count == total,
                          "CompiledFunction: \(inputs.count) input and \(gradient.count) gradient elements for inputs of \(total)")
            evaluate(flat: inputs)
            let value = scalarOutput("valueWithGradient")
            if runBackward(seed: nil) {
                var offset = 0
                for input in self.inputs {
                    tape.withGradient(of: input) { g in
                        (gradient.baseAddress! + offset).update(from: g.baseAddress!, count: g.count)
                        offset += g.count
                    }
                }
            } else {
                gradient.update(repeating: 0)
            }
            return value
        }
    }

    /// f at `inputs`, without a backward pass.
    public func value(at inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
        lock.withLock { _ in
            evaluate(at: inputs)
            return tape.value(of: output)
        }
    }

    /// f at `inputs` and its pullback: a cotangent shaped like f ↦ the vector-Jacobian product
    /// for each input. The pullback is valid until the next call of this compiled function.
    public func vjp(at inputs: [Tensor<Scalar>]) -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> [Tensor<Scalar>]) {
        lock.withLock { _ in
            evaluate(at: inputs)
            let call = calls
            let value = tape.value(of: output)
            return (value, { seed in
                self.lock.withLock { _ in
                    Failure.check(self.calls == call, "CompiledFunction: a pullback used after a later call of its function")
                    Failure.check(seed.shape == value.shape,
                                  "vjp: a cotangent of shape \(ShapeMath.describe(seed.shape)) for a value of shape \(ShapeMath.describe(value.shape))")
                    _ = self.runBackward(seed: seed)
                    return self.backwardGradients(ran: self.output.requiresGradient)
                }
            })
        }
    }

    // MARK: Recording and replaying (under the lock)

    /// Records the function at `point`: a new program.
    @usableFromInline
    func record(at point: [Tensor<Scalar>]) {
        let s = tape.storage
        tape.removeAll()
        s.pointee.compiling = true
        s.pointee.valueReads = []
        s.pointee.comparisons = []
        s.pointee.replayBlocker = nil
        // Call sites kept, to name a decision's place; NaN in the recording is the function's
        // business (it shows in the value), so anomalies are only recorded, then dropped.
        tape.anomalyDetection = .record
        inputs = point.map { tape.variable($0) }
        let result = function(inputs)
        s.pointee.compiling = false
        tape.anomalyDetection = .off
        tape.anomaly = nil
        tape.validate(result, "CompiledFunction")
        output = result
        inputShapes = point.map(\.shape)
        inputCounts = point.map(\.count)
        programEnd = Int(result.index) + 1
        reads = s.pointee.valueReads.map { read in
            let entry = s.pointee.entries[read.entry]
            return (read.entry, read.after, Array(UnsafeBufferPointer(start: s.pointee.values + entry.valueOffset, count: entry.count)))
        }
        comparisons = s.pointee.comparisons
        blocker = s.pointee.replayBlocker
        if blocker == nil, let index = s.pointee.firstUnreplayable(in: 0..<programEnd) {
            blocker = "'\(s.pointee.opName(index))' is recorded with a closure, which cannot run again"
        }
        recordingCount += 1
    }

    /// Brings the tape to f at `point`: a replay, or a new recording when shapes changed, the
    /// program cannot replay, or a decision changed.
    @usableFromInline
    func evaluate(at point: [Tensor<Scalar>]) {
        calls &+= 1
        guard blocker == nil, point.count == inputShapes.count, zip(point, inputShapes).allSatisfy({ $0.shape == $1 }) else {
            return record(at: point)
        }
        let s = tape.storage
        for (input, value) in zip(inputs, point) {
            value.withUnsafeBufferPointer { p in
                (s.pointee.values + s.pointee.entries[Int(input.index)].valueOffset).update(from: p.baseAddress!, count: p.count)
            }
        }
        replay { record(at: point) }
    }

    /// ``evaluate(at:)`` for inputs concatenated in one buffer of the recorded sizes.
    @usableFromInline
    func evaluate(flat: UnsafeBufferPointer<Scalar>) {
        calls &+= 1
        func point() -> [Tensor<Scalar>] {
            var offset = 0
            return zip(inputShapes, inputCounts).map { shape, count in
                defer { offset += count }
                return Tensor(shape: shape, scalars: Array(flat[offset..<(offset + count)]))
            }
        }
        guard blocker == nil else { return record(at: point()) }
        let s = tape.storage
        var offset = 0
        for (input, count) in zip(inputs, inputCounts) {
            (s.pointee.values + s.pointee.entries[Int(input.index)].valueOffset).update(from: flat.baseAddress! + offset, count: count)
            offset += count
        }
        replay { record(at: point()) }
    }

    /// Runs the recorded forwards on the inputs now in place, then checks every decision.
    @usableFromInline
    func replay(recordAgain: () -> Void) {
        tape.replayForward(0..<programEnd)
        replayCount += 1
        let s = tape.storage
        let flipped = comparisons.firstIndex { $0.evaluate(s) != $0.result }
        let changed = reads.isEmpty ? nil : firstChangedRead()
        guard flipped != nil || changed != nil else { return }
        switch policy {
        case .recordAgain:
            replayCount -= 1
            recordAgain()
        case .stop:
            if let flipped { stopAtFlippedComparison(comparisons[flipped]) }
            stopAtChangedDecision(changed!)
        }
    }

    /// The first read whose value differs (bit for bit) from the recording's, or nil.
    @usableFromInline
    func firstChangedRead() -> Int? {
        let s = tape.storage
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
        let read = reads[i]
        let op = s.pointee.opName(read.entry)
        let place = s.pointee.site(of: read.entry).map { " (recorded at \($0))" } ?? ""
        let before = self.place(after: read.after)
        Failure.stop("CompiledFunction: the function read the value of '\(op)'\(place) while it was recorded\(before), "
                     + "and that value is different now, so the recorded branches may not be the ones it would take; "
                     + "write the branch with select(_:_:_:), or compile with onChangedDecision: .recordAgain")
    }

    /// The output's only element. - Precondition: it has one.
    @usableFromInline
    func scalarOutput(_ op: StaticString) -> Scalar {
        let s = tape.storage
        let entry = s.pointee.entries[Int(output.index)]
        Failure.check(entry.count == 1, "\(op): the function's value has shape \(ShapeMath.describe(s.pointee.shape(Int(output.index)))), not a single element; use vjp")
        return s.pointee.values[entry.valueOffset]
    }

    /// Runs the backward pass when the output depends on an input; says whether it did.
    @usableFromInline
    func runBackward(seed: Tensor<Scalar>?) -> Bool {
        guard output.requiresGradient else { return false }
        tape.backward(output, seed: seed)
        return true
    }

    /// Runs the backward pass and copies the inputs' gradients.
    @usableFromInline
    func backwardGradients() -> [Tensor<Scalar>] {
        backwardGradients(ran: runBackward(seed: nil))
    }

    @usableFromInline
    func backwardGradients(ran: Bool) -> [Tensor<Scalar>] {
        zip(inputs, inputShapes).map { ran ? tape.gradient(of: $0) : .zeros($1) }
    }
}
