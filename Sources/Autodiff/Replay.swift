/// How a recorded entry's forward runs again when a compiled program replays the tape.
@usableFromInline
enum ReplayKind {
    /// A leaf: an input (written before the replay) or a constant (kept).
    case leaf
    /// A built-in rule on tensors: its forward is derived from the rule behind the entry's code.
    case rule
    /// A built-in op whose forward reads everything from its context: a ``ForwardKernel``, kept
    /// in ``TapeStorage/forwards``, with what fusion can do with it.
    case kernel(FusionRole)
    /// An op recorded with a forward closure: it cannot be run again (the closure is gone, and
    /// what it captured may have been values of this recording).
    case closure
}

/// The forward of a built-in op, declared once for recording and replay: it reads everything
/// it needs from its context (inputs, shapes, ``OpContext/auxScalar``, ``OpContext/auxInt``,
/// saved ints), never from captured values, so a compiled program can run it on new inputs.
@usableFromInline
protocol ForwardKernel {
    static func forward<S: TensorScalar>(_ ctx: OpContext<S>)
    /// What a fused region can use this op for (``FusionRole/none`` unless it says).
    static var fusionRole: FusionRole { get }
}

extension ForwardKernel {
    @inlinable static var fusionRole: FusionRole { .none }
}

/// The value of a rule at one point (the rank-0 forward, derived from the rule).
@usableFromInline
struct ScalarValue<S: TensorScalar>: RuleVisitor {
    @usableFromInline let x, z, c: S
    @inlinable init(x: S, z: S, c: S) { (self.x, self.z, self.c) = (x, z, c) }
    @inlinable func unary<Rule: UnaryRule>(_: Rule.Type) -> S { S.evaluate(Rule.self, x, c) }
    @inlinable func binary<Rule: BinaryRule>(_: Rule.Type) -> S { S.evaluate(Rule.self, x, z) }
    @inlinable func noRule() -> S { x }
}

/// The tensor forward of a rule: the elementwise loop or the broadcasting one.
@usableFromInline
struct TensorForward<S: TensorScalar>: RuleVisitor {
    @usableFromInline let ctx: OpContext<S>
    @inlinable init(ctx: OpContext<S>) { self.ctx = ctx }
    @inlinable func unary<Rule: UnaryRule>(_: Rule.Type) { ctx.evaluateUnary(Rule.self) }
    @inlinable func binary<Rule: BinaryRule>(_: Rule.Type) { ctx.evaluateBinary(Rule.self) }
    @inlinable func noRule() {}
}

extension OpContext {
    /// The forward of a unary rule: `y[i] = Rule.value(x[i], c)`.
    @inlinable @inline(__always)
    func evaluateUnary<Rule: UnaryRule>(_: Rule.Type) {
        Scalar.evaluate(Rule.self, a.value, into: output.value, count: output.count, auxScalar)
    }

    /// The forward of a binary rule with numpy broadcasting.
    @inlinable @inline(__always)
    func evaluateBinary<Rule: BinaryRule>(_: Rule.Type) {
        let out = output
        let (a, b) = (self.a, self.b)
        if a.count == out.count && b.count == out.count {
            let (x, z) = (a.value, b.value)
            for i in 0..<out.count { out.value[i] = Scalar.evaluate(Rule.self, x[i], z[i]) }
        } else {
            BroadcastKernels.binary(BinaryRuleValue<Rule>.self, a.value, a.shapeBuffer, b.value, b.shapeBuffer,
                                    out.value, out.shapeBuffer)
        }
    }
}

extension RuleCode {
    /// Runs this rule's forward for the tensor op in `ctx`.
    @inlinable @inline(never)
    func runForwardOnTensors<S: TensorScalar>(_ ctx: OpContext<S>) {
        RuleTable.dispatch(self, to: TensorForward(ctx: ctx))
    }
}

extension TapeStorage {
    /// The first entry in `range` whose forward cannot run again, or nil when all can.
    func firstUnreplayable(in range: Range<Int>) -> Int? {
        range.first { index in
            guard !entries[index].isScalarOp, case .closure = replayKinds[index] else { return false }
            return true
        }
    }
}

extension Tape {
    /// Runs the forward of every entry in `range` again, in order, on the values now in the
    /// tape (inputs written by the caller): what a compiled program does instead of recording.
    /// - Precondition: every entry in `range` is replayable (``TapeStorage/firstUnreplayable(in:)``).
    @inlinable
    func replayForward(_ range: Range<Int>) {
        var index = range.lowerBound
        while index < range.upperBound {
            replayEntry(index)
            index &+= 1
        }
    }

    /// Runs the forward of entry `index` again (nothing for a leaf).
    @inlinable @inline(__always)
    func replayEntry(_ index: Int) {
        let s = storage
        let entries = s.pointee.entries
        let values = s.pointee.values
        let entry = entries[index]
        if entry.isScalarOp {
            let x = values[entries[Int(entry.inputs.0)].valueOffset]
            let second = Int(entry.inputs.1)
            let z = second < 0 ? x : values[entries[second].valueOffset]
            values[entry.valueOffset] = RuleTable.dispatch(entry.rule, to: ScalarValue(x: x, z: z, c: entry.auxScalar))
            return
        }
        switch s.pointee.replayKinds[index] {
        case .leaf: break
        case .rule:
            entry.rule.runForwardOnTensors(OpContext(storage: s, entry: index))
            s.pointee.endScratch()
        case .kernel:
            s.pointee.forwards[index].unsafelyUnwrapped.body(OpContext(storage: s, entry: index))
            s.pointee.endScratch()
        case .closure:
            Failure.stop("replay: entry \(index) ('\(s.pointee.names[index])') was recorded with a closure")
        }
    }
}

extension Tape {
    /// The backward pass of a replayed program of rank-0 entries only (leaves and rule results)
    /// from entry `last`: the loop of ``backward(_:seed:)`` for rank-0 ops, without its checks
    /// and bookkeeping (the program was checked when it was recorded). Gradients are read from
    /// the arena by the caller.
    @inlinable
    func replayScalarBackward(_ last: Int) {
        let s = storage
        if s.pointee.gradientsCapacity < s.pointee.valuesCapacity { prepareGradients(upTo: last) }
        let entries = s.pointee.entries
        let values = s.pointee.values
        let gradients = s.pointee.gradients.unsafelyUnwrapped
        for index in 0..<last { gradients[entries[index].valueOffset] = 0 }
        gradients[entries[last].valueOffset] = 1
        var lastWrite = LastGradient<Scalar>()
        var index = last
        while index >= 0 {
            let entry = entries[index]
            if entry.requiresGradient && entry.rule != .none {
                entry.rule.runScalar(entry, entries: entries, values: values, gradients: gradients, last: &lastWrite)
            }
            index &-= 1
        }
    }
}

extension TapeStorage {
    /// Notes that the recorded code read entry `index`'s value (a decision a replay re-checks).
    @usableFromInline @inline(never)
    mutating func noteValueRead(_ index: Int) {
        valueReads.append((index, count))
    }
}

extension TapeStorage {
    /// Marks entry `index` as recorded by `Kernel`, keeping its forward for replays.
    @inlinable @inline(__always)
    mutating func markKernel<Kernel: ForwardKernel>(_ index: Int, _: Kernel.Type) {
        replayKinds[index] = .kernel(Kernel.fusionRole)
        forwards[index] = StoredPullback { Kernel.forward($0) }
    }
}
