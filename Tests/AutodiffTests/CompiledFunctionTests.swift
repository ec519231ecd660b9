@testable import Autodiff
import Foundation
import Testing

/// Expects a compiled function recorded at `first` and replayed at `second` to give the value
/// and gradients a fresh tape gives at `second`, bit for bit (the same ops in the same order),
/// from a replay (not a new recording).
func expectReplayMatchesFreshTape(
    _ what: String, at first: [Tensor<Double>], then second: [Tensor<Double>],
    _ f: @escaping ([Variable<Double>]) -> Variable<Double>, sourceLocation: SourceLocation = #_sourceLocation
) {
    let compiled = CompiledFunction(at: first, f)
    #expect(compiled.replayBlocker == nil, "\(what): \(compiled.replayBlocker ?? "")", sourceLocation: sourceLocation)
    let replayed = compiled.valueWithGradients(at: second)
    let fresh = valueWithGradient(at: second, of: f)
    #expect(compiled.recordings == 1 && compiled.replays == 1,
            "\(what): expected 1 recording and 1 replay, got \(compiled.recordings) and \(compiled.replays)", sourceLocation: sourceLocation)
    #expect(replayed.value.bitPattern == fresh.value.bitPattern,
            "\(what): replayed value \(replayed.value), fresh tape \(fresh.value)", sourceLocation: sourceLocation)
    for (i, (r, t)) in zip(replayed.gradients, fresh.gradients).enumerated() {
        #expect(r.shape == t.shape && zip(r.scalars, t.scalars).allSatisfy { $0.bitPattern == $1.bitPattern },
                "\(what): gradient \(i) replayed \(r.scalars.prefix(4)), fresh tape \(t.scalars.prefix(4))", sourceLocation: sourceLocation)
    }
}

/// Expects a fused compiled function recorded at `first` and replayed at `second` to give the
/// fresh tape's value and gradients at `second` within `tolerance` relative to the largest
/// magnitude (fusion adds sums over broadcast operands and the final total in another order).
func expectFusedReplayNearFreshTape(
    _ what: String, at first: [Tensor<Double>], then second: [Tensor<Double>], regions: Int? = nil, tolerance: Double = 1e-12,
    _ f: @escaping ([Variable<Double>]) -> Variable<Double>, sourceLocation: SourceLocation = #_sourceLocation
) {
    let compiled = CompiledFunction(at: first, fusing: true, f)
    if let regions {
        #expect(compiled.fusedRegions == regions, "\(what): expected \(regions) fused regions, got \(compiled.fusedRegions)",
                sourceLocation: sourceLocation)
    }
    for point in [second, first] {
        let replayed = compiled.valueWithGradients(at: point)
        let fresh = valueWithGradient(at: point, of: f)
        func near(_ a: Double, _ b: Double, _ scale: Double) -> Bool { Swift.abs(a - b) <= tolerance * Swift.max(1, scale) }
        #expect(near(replayed.value, fresh.value, Swift.abs(fresh.value)),
                "\(what): fused value \(replayed.value), fresh tape \(fresh.value)", sourceLocation: sourceLocation)
        for (i, (r, t)) in zip(replayed.gradients, fresh.gradients).enumerated() {
            let scale = t.scalars.map(Swift.abs).max() ?? 1
            #expect(r.shape == t.shape && zip(r.scalars, t.scalars).allSatisfy { near($0, $1, scale) },
                    "\(what): fused gradient \(i) \(r.scalars.prefix(4)), fresh tape \(t.scalars.prefix(4))", sourceLocation: sourceLocation)
        }
    }
    #expect(compiled.recordings == 1, "\(what): \(compiled.recordings) recordings", sourceLocation: sourceLocation)
}

@Suite("Compiled functions: record once, replay")
struct CompiledFunctionTests {
    @Test("every rule replays as a fresh tape computes, bit for bit: tensors, broadcasting, rank 0",
          arguments: RuleTableTests.codes)
    func rules(_ code: RuleCode) {
        let c = RuleTableTests.exercise(code)!
        func inputs(_ shape: [Int], _ seed: UInt64) -> Tensor<Double> { randomTensor(shape, seed: seed, in: c.range) }
        let f: ([Variable<Double>]) -> Variable<Double> = { c.op($0).sum() }
        if c.binary {
            expectReplayMatchesFreshTape("\(code) [3, 5]", at: [inputs([3, 5], 1), inputs([3, 5], 2)],
                                         then: [inputs([3, 5], 3), inputs([3, 5], 4)], f)
            expectReplayMatchesFreshTape("\(code) [3, 5] with [5]", at: [inputs([3, 5], 1), inputs([5], 2)],
                                         then: [inputs([3, 5], 3), inputs([5], 4)], f)
            expectReplayMatchesFreshTape("\(code) rank 0", at: [inputs([], 1), inputs([], 2)],
                                         then: [inputs([], 3), inputs([], 4)], { c.op($0) })
        } else {
            expectReplayMatchesFreshTape("\(code) [3, 5]", at: [inputs([3, 5], 1)], then: [inputs([3, 5], 3)], f)
            expectReplayMatchesFreshTape("\(code) rank 0", at: [inputs([], 1)], then: [inputs([], 3)], { c.op($0) })
        }
    }

    /// The built-in ops that are not rules, each used once; every one must replay.
    typealias Function = @Sendable ([Variable<Double>]) -> Variable<Double>
    static let ops: [(String, [[Int]], Function)] = [
        ("reshape", [[3, 4]], { ($0[0].reshaped(to: [2, 6]) * Tensor(shape: [2, 6], scalars: (0..<12).map(Double.init))).sum() }),
        ("broadcast", [[3, 1]], { $0[0].broadcast(to: [3, 4]).squared().sum() }),
        ("sum and mean", [[3, 4]], { $0[0].squared().sum() + $0[0].mean() * 3 }),
        ("sum and mean along an axis", [[3, 4]], { $0[0].sum(alongAxis: 0).squared().sum() + $0[0].mean(alongAxis: 1).squared().sum() }),
        ("max and min along an axis", [[3, 4]], { $0[0].max(alongAxis: 1).sum() - $0[0].min(alongAxis: 0).squared().sum() }),
        ("logSumExp", [[3, 4]], { $0[0].logSumExp(alongAxis: 1).squared().sum() }),
        ("softmax and logSoftmax", [[3, 4]], {
            ($0[0].softmax(alongAxis: 1) * Tensor(shape: [4], scalars: [1, 2, 3, 4])).sum() + $0[0].logSoftmax(alongAxis: 0).sum()
        }),
        ("matmul", [[3, 4], [4, 2]], { matmul($0[0], $0[1]).squared().sum() }),
        ("batched matmul", [[2, 3, 4], [2, 4, 2]], { matmul($0[0], $0[1]).squared().sum() }),
        ("linear, each activation", [[3, 4], [4, 2], [2]], { v in
            linear(v[0], weight: v[1], bias: v[2]).squared().sum()
                + linear(v[0], weight: v[1], bias: v[2], activation: .relu).sum()
                + linear(v[0], weight: v[1], bias: v[2], activation: .sigmoid).sum()
                + linear(v[0], weight: v[1], bias: v[2], activation: .tanh).sum()
        }),
        ("transposes", [[3, 4], [2, 3, 4]], { $0[0].transposed().squared().sum() + ($0[1].transposed([2, 0, 1]) * Tensor(shape: [4, 1, 1], scalars: [1, 2, 3, 4])).sum() }),
        ("slices, subscript, split", [[4, 3]], { v in
            v[0][1..<3].squared().sum() + v[0][2].sum() * 2 + v[0].split(alongAxis: 1, sizes: [1, 2])[1].squared().sum()
        }),
        ("concatenate", [[2, 3], [2, 2]], { (concatenate([$0[0], $0[1]], alongAxis: 1) * Tensor(shape: [5], scalars: [1, 2, 3, 4, 5])).squared().sum() }),
        ("gatherRows", [[4, 3]], { $0[0].gatherRows([3, 0, 3]).squared().sum() }),
        ("masks and select", [[3, 4], [3, 4]], { v in select(v[0] .> v[1], v[0] * 2, v[1].squared()).sum() + (v[0] .<= 0).sum() }),
        ("stopGradient", [[3, 4]], { $0[0].squared().sum() * stopGradient($0[0]).sum() }),
        ("meanSquaredError", [[3, 4], [3, 4]], { meanSquaredError($0[0], $0[1]) }),
        ("binaryCrossEntropy", [[3, 4], [3, 4]], { binaryCrossEntropy(sigmoid($0[0]), sigmoid($0[1])) + binaryCrossEntropy(logits: $0[0], targets: sigmoid($0[1])) }),
        ("crossEntropy", [[3, 4], [3, 4]], { crossEntropy($0[0].softmax(alongAxis: 1), $0[1].softmax(alongAxis: 1)) + crossEntropy($0[0].softmax(alongAxis: 1), labels: [3, 0, 1]) }),
        ("softmaxCrossEntropy", [[3, 4], [3, 4]], { softmaxCrossEntropy(logits: $0[0], labels: [1, 3, 0]) + softmaxCrossEntropy(logits: $0[0], targets: $0[1].softmax(alongAxis: 1)) }),
        ("rules of one's own", [[3, 4], [4]], { v in v[0].applying(CubeRule.self).sum() + Variable.applying(HypotenuseRule.self, v[0], v[1]).sum() }),
    ]

    @Test("every op that is not a rule replays as a fresh tape computes, bit for bit", arguments: 0..<Self.ops.count)
    func otherOps(_ i: Int) {
        let (name, shapes, f) = Self.ops[i]
        let first = shapes.enumerated().map { randomTensor($1, seed: UInt64(10 + $0)) }
        let second = shapes.enumerated().map { randomTensor($1, seed: UInt64(20 + $0)) }
        expectReplayMatchesFreshTape(name, at: first, then: second, f)
    }

    @Test("fused: every rule in a chain with a sum, tensors and broadcasting, near the fresh tape", arguments: RuleTableTests.codes)
    func fusedRules(_ code: RuleCode) {
        let c = RuleTableTests.exercise(code)!
        func inputs(_ shape: [Int], _ seed: UInt64) -> Tensor<Double> { randomTensor(shape, seed: seed, in: c.range) }
        // The rule, then two more elementwise ops and a sum: one region (the scalar multiply
        // and the square keep the op inside the chain).
        let f: ([Variable<Double>]) -> Variable<Double> = { (c.op($0) * 0.5).squared().sum() }
        if c.binary {
            expectFusedReplayNearFreshTape("\(code) [3, 5]", at: [inputs([3, 5], 1), inputs([3, 5], 2)],
                                           then: [inputs([3, 5], 3), inputs([3, 5], 4)], regions: 1, f)
            expectFusedReplayNearFreshTape("\(code) [3, 1, 2] with [1, 4, 2]", at: [inputs([3, 1, 2], 1), inputs([1, 4, 2], 2)],
                                           then: [inputs([3, 1, 2], 3), inputs([1, 4, 2], 4)], regions: 1, f)
        } else {
            expectFusedReplayNearFreshTape("\(code) [3, 5]", at: [inputs([3, 5], 1)], then: [inputs([3, 5], 3)], regions: 1, f)
        }
    }

    @Test("fused: Lennard-Jones forces (two regions: pair differences to squared distances, then the energy)")
    func fusedForces() {
        let n = 7
        let eye = Tensor<Double>.identity(n)
        let energy: ([Variable<Double>]) -> Variable<Double> = { v in
            let x = v[0]
            let difference = x.reshaped(to: [n, 1, 3]) - x.reshaped(to: [1, n, 3])
            let squared = (difference * difference).sum(alongAxis: -1) + eye
            let inverse6 = pow(squared, -3)
            return ((inverse6.squared() - inverse6) * (1 - eye)).sum() * 2
        }
        func lattice(_ shift: Double) -> Tensor<Double> {
            var scalars: [Double] = []
            for i in 0..<(3 * n) {
                let site: Double = Double(i / 3) * 1.1 + Double(i % 3) * 0.37
                scalars.append(site + shift * Double(i % 5))
            }
            return Tensor(shape: [n, 3], scalars: scalars)
        }
        expectFusedReplayNearFreshTape("Lennard-Jones", at: [lattice(0.01)], then: [lattice(0.03)], regions: 2, energy)
    }

    @Test("fused: a chain whose middle value is read elsewhere is cut there; vjp of an elementwise region; constants")
    func fusedCuts() {
        expectFusedReplayNearFreshTape("cut", at: [randomTensor([4, 6], seed: 1)], then: [randomTensor([4, 6], seed: 2)]) { v in
            let y = exp(v[0] * 0.5)
            return (y.squared() + 1).sum() + y.max(alongAxis: 1).sum()
        }
        let compiled = CompiledFunction(at: [randomTensor([3, 4], seed: 3)], fusing: true) { v in sin(v[0] * 2).squared() + 1 }
        #expect(compiled.fusedRegions == 1)
        let seed = randomTensor([3, 4], seed: 5)
        let (value, pullback) = compiled.vjp(at: [randomTensor([3, 4], seed: 4)])
        let fresh = vjp(at: randomTensor([3, 4], seed: 4)) { x in sin(x * 2).squared() + 1 }
        #expect(value == fresh.value && pullback(seed)[0] == fresh.pullback(seed), "fused vjp differs from the tape's")
    }

    @Test("a rank-0 program through the flat form: the tape's bits, every step of a descent")
    func scalarProgram() {
        let f: ([Variable<Double>]) -> Variable<Double> = { v in (v[0] * v[0] - 2).squared() + sin(v[1]) * v[0] }
        let compiled = CompiledFunction(at: [Tensor(1.0), Tensor(0.5)], f)
        var point = [1.0, 0.5], gradient = [0.0, 0.0]
        for step in 0..<20 {
            let value = point.withUnsafeBufferPointer { p in gradient.withUnsafeMutableBufferPointer { compiled.valueWithGradient(at: p, into: $0) } }
            let fresh = valueWithGradient(at: point.map { Tensor($0) }, of: f)
            #expect(value.bitPattern == fresh.value.bitPattern && gradient == fresh.gradients.map(\.scalar),
                    "step \(step) at \(point): replayed \(value), \(gradient); fresh tape \(fresh.value), \(fresh.gradients.map(\.scalar))")
            point = zip(point, gradient).map { $0 - 0.05 * $1 }
        }
        #expect(compiled.replays == 20 && compiled.recordings == 1)
    }

    @Test("a branch on a comparison replays while it holds and records again when it flips")
    func comparison() {
        let f: (Variable<Double>) -> Variable<Double> = { x in x > 0 ? x.squared() * 3 : sin(x) }
        let compiled = CompiledFunction(at: Tensor(1.0), f)
        for x in [2.0, 0.5, -1.0, -2.0, 3.0] {
            let (value, gradient) = compiled.valueWithGradient(at: Tensor(x))
            let expected = x > 0 ? (3 * x * x, 6 * x) : (Foundation.sin(x), Foundation.cos(x))
            #expect(value == expected.0 && gradient.scalar == expected.1, "at \(x): expected \(expected), got \((value, gradient.scalar))")
        }
        // Recorded at 1; -1 flips the branch (a new recording), -2 replays it, 3 flips back.
        #expect(compiled.recordings == 3 && compiled.replays == 3, "recordings \(compiled.recordings), replays \(compiled.replays)")
    }

    @Test("a loop until a traced value is small records again whenever the value read differs")
    func valueDependentLoop() {
        // Newton's iteration for √a, stopping when the step is below 1e-12: the trip count depends on a.
        let f: (Variable<Double>) -> Variable<Double> = { a in
            var y = a * 0 + 1
            while true {
                let next = (y + a / y) * 0.5
                if abs(next - y).scalar < 1e-12 { return next }
                y = next
            }
        }
        let compiled = CompiledFunction(at: Tensor(2.0), f)
        for a in [2.0, 9.0, 1e6, 2.0] {
            let (value, gradient) = compiled.valueWithGradient(at: Tensor(a))
            let fresh = valueWithGradient(at: Tensor(a), of: f)
            #expect(value == fresh.value && gradient == fresh.gradient, "√\(a): \(value), \(gradient.scalar); fresh tape \(fresh.value), \(fresh.gradient.scalar)")
            #expect(Swift.abs(gradient.scalar - 0.5 / a.squareRoot()) < 1e-9, "d√a/da at \(a): \(gradient.scalar)")
        }
        // The first call is at the recorded point (the values read are the same: a replay); the
        // others read other values and record again.
        #expect(compiled.replays == 1 && compiled.recordings == 4, "replays \(compiled.replays), recordings \(compiled.recordings)")
    }

    @Test("with .stop, a flipped comparison stops naming the op and what to do")
    func stopPolicy() async {
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let compiled = CompiledFunction(at: Tensor(1.0), onChangedDecision: .stop) { (x: Variable<Double>) in
                x > 0 ? x.squared() : -x
            }
            _ = compiled.valueWithGradient(at: Tensor(-1.0))
        }, "CompiledFunction: a comparison of 'variable' that the function branched on was true when it was recorded and is false now")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let compiled = CompiledFunction(at: Tensor(1.0), onChangedDecision: .stop) { (x: Variable<Double>) in
                x.squared().sum(file: "Model.swift", line: 7) * x.value.scalar
            }
            _ = compiled.valueWithGradient(at: Tensor(2.0))
        }, "the function read the value of 'variable' while it was recorded, after the op at Model.swift:7")
    }

    @Test("an op recorded with a closure, a backward pass inside, new shapes: each call records, and is right")
    func recordsAgain() {
        let custom: (Variable<Double>) -> Variable<Double> = { x in
            x.tape.record("cube", shape: x.shape, x, forward: { ctx in
                for i in 0..<ctx.output.count { ctx.output.value[i] = ctx.a.value[i] * ctx.a.value[i] * ctx.a.value[i] }
            }, pullback: { ctx in
                guard let gx = ctx.a.gradient else { return }
                for i in 0..<ctx.output.count { gx[i] += 3 * ctx.a.value[i] * ctx.a.value[i] * ctx.output.gradient![i] }
            }).sum()
        }
        let compiled = CompiledFunction(at: Tensor([1.0, 2.0]), custom)
        #expect(compiled.replayBlocker == "'cube' is recorded with a closure, which cannot run again")
        let (value, gradient) = compiled.valueWithGradient(at: Tensor([2.0, 3.0]))
        #expect(value == 35 && gradient.scalars == [12, 27] && compiled.recordings == 2 && compiled.replays == 0)

        let inner = CompiledFunction(at: Tensor([1.0, 2.0])) { x in
            x.tape.backward(x.squared().sum())
            return x.squared().sum()
        }
        #expect(inner.replayBlocker == "the function runs a backward pass")

        let sum = CompiledFunction(at: Tensor([1.0, 2.0])) { $0.squared().sum() }
        #expect(sum.valueWithGradient(at: Tensor([1.0, 2.0, 3.0])).gradient.scalars == [2, 4, 6])
        #expect(sum.valueWithGradient(at: Tensor([4.0, 5.0, 6.0])).gradient.scalars == [8, 10, 12])
        #expect(sum.recordings == 2 && sum.replays == 1, "new shapes record once, then replay")
    }

    @Test("the flat, allocation-free form, vjp, a value only, and an output that does not depend on the input")
    func otherForms() {
        let compiled = CompiledFunction(at: [Tensor([1.0, 2.0]), Tensor(3.0)]) { v in (v[0] * v[1]).squared().sum() }
        var gradient = [Double](repeating: 0, count: 3)
        let value = [2.0, -1.0, 0.5].withUnsafeBufferPointer { x in
            gradient.withUnsafeMutableBufferPointer { compiled.valueWithGradient(at: x, into: $0) }
        }
        // f = (x0·y)² + (x1·y)²: ∂x_i = 2·x_i·y², ∂y = 2·y·(x0² + x1²).
        #expect(value == 1.25 && gradient == [1, -0.5, 5], "value \(value), gradient \(gradient)")
        #expect(compiled.value(at: [Tensor([1.0, 1.0]), Tensor(2.0)]).scalar == 8)

        let vector = CompiledFunction(at: [Tensor([1.0, 2.0])]) { $0[0].squared() }
        let (y, pullback) = vector.vjp(at: [Tensor([3.0, 4.0])])
        #expect(y.scalars == [9, 16] && pullback(Tensor([1.0, 10.0]))[0].scalars == [6, 80])

        let constant = CompiledFunction(at: Tensor([1.0, 2.0])) { x in x.tape.constant(5.0) }
        let result = constant.valueWithGradient(at: Tensor([3.0, 4.0]))
        #expect(result.value == 5 && result.gradient.scalars == [0, 0])
    }

    @Test("one compiled function per task: parallel replays share nothing and each gets its own result")
    func tasks() async {
        @Sendable func cubes(_ x: Variable<Double>) -> Variable<Double> { (x * x * x).sum() }
        let wrong = await withTaskGroup(of: Int.self) { group in
            for t in 0..<4 {
                group.addTask {
                    let compiled = CompiledFunction(at: Tensor([1.0, 2.0, 3.0]), cubes)
                    var wrong = 0
                    for i in 0..<500 {
                        let x = Double(t * 1000 + i)
                        let (value, gradient) = compiled.valueWithGradient(at: Tensor([x, 1, 2]))
                        if value != x * x * x + 9 || gradient.scalars != [3 * x * x, 3, 12] { wrong += 1 }
                    }
                    return wrong + (compiled.replays == 500 ? 0 : 1000)
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0, "\(wrong) of 2,000 calls in 4 tasks were wrong, or were not replays")
    }
}

/// x³, a rule of the user's. dy/dx = 3x².
enum CubeRule: UnaryRule {
    static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x * x * x }
    static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 3 * x * x }
}

/// √(a² + b²), a binary rule of the user's.
enum HypotenuseRule: BinaryRule {
    static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { (a * a + b * b).squareRoot() }
    static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (a / y, b / y) }
}
