/// The pullbacks of the built-in rules, for both paths of the backward pass: rank-0 entries
/// (plain arithmetic on slots) and tensors (loops over the op's values). Both find the rule
/// through `RuleTable` and compute g·∂ with the rule's own derivative, so they agree bit for
/// bit.
extension RuleCode {
    /// Runs this pullback for a rank-0 op on rank-0 inputs (``TapeEntry/isScalarOp``).
    @inlinable @inline(__always)
    func runScalar<S: TensorScalar>(
        _ entry: TapeEntry<S>, entries: UnsafeMutablePointer<TapeEntry<S>>, values: UnsafeMutablePointer<S>,
        gradients: UnsafeMutablePointer<S>, last: inout LastGradient<S>
    ) {
        let g = last.read(entry.valueOffset, gradients)
        let a = entries[Int(entry.inputs.0)]
        let x = values[a.valueOffset]
        let y = values[entry.valueOffset]
        // One dispatch for both arities (a unary rule ignores z and gives ∂b = 0), so that the
        // whole pullback inlines into the backward loop.
        let second = Int(entry.inputs.1)
        let b = entries[second < 0 ? Int(entry.inputs.0) : second]
        let z = values[b.valueOffset]
        let (da, db) = RuleTable.dispatch(self, to: ScalarPartials(x: x, z: z, y: y, c: entry.auxScalar))
        if a.requiresGradient { last.add(g * da, at: a.valueOffset, gradients) }
        if second >= 0 && b.requiresGradient { last.add(g * db, at: b.valueOffset, gradients) }
    }

    /// Runs this pullback for the tensor op in `ctx`.
    @inlinable @inline(never)
    func runOnTensors<S: TensorScalar>(_ ctx: OpContext<S>) {
        RuleTable.dispatch(self, to: TensorPullback(ctx: ctx))
    }
}

/// The partial derivatives of a rule at one point: (dy/dx, 0) for a unary rule.
@usableFromInline
struct ScalarPartials<S: TensorScalar>: RuleVisitor {
    @usableFromInline let x, z, y, c: S
    @inlinable init(x: S, z: S, y: S, c: S) { (self.x, self.z, self.y, self.c) = (x, z, y, c) }
    @inlinable func unary<Rule: UnaryRule>(_: Rule.Type) -> (S, S) { (Rule.derivative(x, y, c), 0) }
    @inlinable func binary<Rule: BinaryRule>(_: Rule.Type) -> (S, S) { Rule.partials(x, z, y) }
    @inlinable func noRule() -> (S, S) { (0, 0) }
}

/// The tensor pullback of a rule: the generic elementwise loop or the broadcasting one.
@usableFromInline
struct TensorPullback<S: TensorScalar>: RuleVisitor {
    @usableFromInline let ctx: OpContext<S>
    @inlinable init(ctx: OpContext<S>) { self.ctx = ctx }
    @inlinable func unary<Rule: UnaryRule>(_: Rule.Type) { ctx.accumulateUnary(Rule.self) }
    @inlinable func binary<Rule: BinaryRule>(_: Rule.Type) { ctx.accumulateBinary(Rule.self) }
    @inlinable func noRule() {}
}

/// The gradient slot written last in a backward pass, kept in a register: in scalar code the
/// next entry is usually the input just written, and reading it back from memory would wait
/// for the store on every op of the chain.
@usableFromInline
struct LastGradient<S: TensorScalar> {
    @usableFromInline var slot = -1
    @usableFromInline var value: S = 0

    @inlinable init() {}

    /// The gradient in `slot`.
    @inlinable @inline(__always)
    func read(_ slot: Int, _ gradients: UnsafeMutablePointer<S>) -> S {
        slot == self.slot ? value : gradients[slot]
    }

    /// `gradients[slot] += delta`, remembered as the last write.
    @inlinable @inline(__always)
    mutating func add(_ delta: S, at slot: Int, _ gradients: UnsafeMutablePointer<S>) {
        let sum = read(slot, gradients) + delta
        gradients[slot] = sum
        (self.slot, value) = (slot, sum)
    }

    /// Forgets the last write (after code that writes gradients without telling).
    @inlinable @inline(__always)
    mutating func forget() { slot = -1 }
}

extension OpContext {
    /// The pullback of a unary rule: `gx += g · Rule.derivative(x, y, c)`.
    @inlinable @inline(__always)
    public func accumulateUnary<Rule: UnaryRule>(_: Rule.Type) {
        let c = auxScalar
        let a = self.a
        guard let gx = a.gradient else { return }
        let out = output
        Rule.accumulateDerivative(out.gradient.unsafelyUnwrapped, a.value, out.value, into: gx, count: out.count, c)
    }

    /// The pullback of every binary rule: ∂a += g·∂f/∂a and ∂b += g·∂f/∂b, each summed over the
    /// axes along which its operand was broadcast.
    @inlinable
    public func accumulateBinary<Rule: BinaryRule>(_: Rule.Type) {
        let a = self.a
        let b = self.b
        let ga = a.gradient
        let gb = b.gradient
        if ga == nil && gb == nil { return }
        let out = output
        let n = out.count
        let g = out.gradient.unsafelyUnwrapped
        let y = out.value
        let (x, z) = (a.value, b.value)
        if a.count == n && b.count == n {
            if let ga, ga == gb {
                // The same variable on both sides (x * x): one store per element.
                for i in 0..<n {
                    let (da, db) = Rule.partials(x[i], z[i], y[i])
                    ga[i] = (ga[i] + g[i] * da) + g[i] * db
                }
            } else if let ga, let gb {
                for i in 0..<n {
                    let (da, db) = Rule.partials(x[i], z[i], y[i])
                    ga[i] += g[i] * da
                    gb[i] += g[i] * db
                }
            } else if let ga {
                for i in 0..<n { ga[i] += g[i] * Rule.partials(x[i], z[i], y[i]).0 }
            } else if let gb {
                for i in 0..<n { gb[i] += g[i] * Rule.partials(x[i], z[i], y[i]).1 }
            }
            return
        }
        // The gradient of a broadcast operand is a sum over the output: compensated, so that it
        // stays accurate in Float over millions of elements.
        if a.count == n && b.count == 1 {
            let s = z[0]
            var total = CompensatedSum<Scalar>()
            for i in 0..<n {
                let (da, db) = Rule.partials(x[i], s, y[i])
                ga?[i] += g[i] * da
                total.add(g[i] * db)
            }
            gb?[0] += total.value
            return
        }
        if b.count == n && a.count == 1 {
            let s = x[0]
            var total = CompensatedSum<Scalar>()
            for i in 0..<n {
                let (da, db) = Rule.partials(s, z[i], y[i])
                total.add(g[i] * da)
                gb?[i] += g[i] * db
            }
            ga?[0] += total.value
            return
        }
        // General broadcast: each output element's contributions go straight to the operand
        // elements it read; along an axis an operand was broadcast on, they are summed first.
        let layout = BroadcastLayout(out.shapeBuffer, a.shapeBuffer, b.shapeBuffer)
        let ta = ga ?? scratch(a.count)
        let tb = gb ?? scratch(b.count)
        layout.forEachRow { o, ia, ib, length, so, sa, sb in
            // The four cases apart, so each inner loop has no branch.
            switch (sa == 0, sb == 0) {
            case (true, false):
                var total = CompensatedSum<Scalar>()
                for j in 0..<length {
                    let k = o &+ j &* so
                    let (da, db) = Rule.partials(x[ia], z[ib &+ j &* sb], y[k])
                    total.add(g[k] * da)
                    tb[ib &+ j &* sb] += g[k] * db
                }
                ta[ia] += total.value
            case (false, true):
                var total = CompensatedSum<Scalar>()
                for j in 0..<length {
                    let k = o &+ j &* so
                    let (da, db) = Rule.partials(x[ia &+ j &* sa], z[ib], y[k])
                    ta[ia &+ j &* sa] += g[k] * da
                    total.add(g[k] * db)
                }
                tb[ib] += total.value
            case (true, true):
                var (totalA, totalB) = (CompensatedSum<Scalar>(), CompensatedSum<Scalar>())
                for j in 0..<length {
                    let k = o &+ j &* so
                    let (da, db) = Rule.partials(x[ia], z[ib], y[k])
                    totalA.add(g[k] * da)
                    totalB.add(g[k] * db)
                }
                ta[ia] += totalA.value
                tb[ib] += totalB.value
            case (false, false):
                for j in 0..<length {
                    let k = o &+ j &* so
                    let (da, db) = Rule.partials(x[ia &+ j &* sa], z[ib &+ j &* sb], y[k])
                    ta[ia &+ j &* sa] += g[k] * da
                    tb[ib &+ j &* sb] += g[k] * db
                }
            }
        }
    }

    /// `target.gradient += contribution`, summed down to the target's shape when the target
    /// was broadcast. `contribution` has the output's shape.
    @inlinable @inline(__always)
    public func accumulateBroadcast(_ contribution: UnsafePointer<Scalar>, into target: TapeValue<Scalar>) {
        guard let gt = target.gradient else { return }
        let out = output
        if target.count == out.count {
            for i in 0..<out.count { gt[i] += contribution[i] }
        } else {
            BroadcastKernels.accumulateReduced(contribution, out.shapeBuffer, into: gt, target.shapeBuffer)
        }
    }
}
