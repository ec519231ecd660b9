import Autodiff
import Testing

/// A 2-layer tanh network's softmax cross-entropy, for any scalar type.
struct SmallNetworkLoss: ScalarGenericComputation {
    let features = randomTensor([6, 5], seed: 110)
    func callAsFunction<T: TensorScalar>(_ tape: Tape<T>, _ p: [Variable<T>]) -> Variable<T> {
        let h = tanh(linear(tape.constant(features.converted()), weight: p[0], bias: p[1]))
        return softmaxCrossEntropy(logits: linear(h, weight: p[2], bias: p[3]), labels: [0, 1, 2, 0, 1, 2])
    }
}

/// x² whose pullback is wrong in Float only (3x instead of 2x): the bug a Float-only kernel can have.
struct FloatOnlyBug: ScalarGenericComputation {
    func callAsFunction<T: TensorScalar>(_ tape: Tape<T>, _ p: [Variable<T>]) -> Variable<T> {
        let factor: T = T.self == Float.self ? 3 : 2
        return tape.record("square", shapeOfFirstInput: p[0], forward: { ctx in
            for i in 0..<ctx.a.count { ctx.output.value[i] = ctx.a.value[i] * ctx.a.value[i] }
        }, pullback: { ctx in
            for i in 0..<ctx.a.count { ctx.a.gradient![i] += factor * ctx.a.value[i] * ctx.output.gradient![i] }
        }).sum()
    }
}

@Suite("Float gradients checked in Double")
struct PrecisionCheckTests {
    @Test("a sound Float network agrees with its Double run, and the Double run with finite differences")
    func agrees() {
        let weights = [randomTensor([5, 4], seed: 111), randomTensor([4], seed: 112), randomTensor([4, 3], seed: 113), randomTensor([3], seed: 114)]
        let result = GradientCheck.checkFloatInDouble(at: weights.map { $0.converted(to: Float.self) }, SmallNetworkLoss())
        #expect(result.passed && result.maxError < 1e-5, "\(result)")
        let finiteDifferences = GradientCheck.check(at: weights.map { $0.converted(to: Float.self).converted(to: Double.self) }) { tape, p in
            SmallNetworkLoss()(tape, p)
        }
        #expect(finiteDifferences.maxError < 1e-6, "the Double run against finite differences: \(finiteDifferences)")
    }

    @Test("a pullback wrong only in Float is caught, which the Double finite-difference check cannot see")
    func catchesFloatOnlyBug() {
        let x = randomTensor([7], seed: 115)
        let result = GradientCheck.checkFloatInDouble(at: [x.converted(to: Float.self)], FloatOnlyBug())
        #expect(!result.passed && abs(result.maxError - 0.5) < 1e-6, "3x against 2x is a normwise error of 0.5, got \(result)")
        #expect(GradientCheck.check(at: [x]) { tape, p in FloatOnlyBug()(tape, p) }.maxError < 1e-8)
    }
}
