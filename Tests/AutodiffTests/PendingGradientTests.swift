@testable import Autodiff
import Testing

/// Gradients of more than a few elements are not zeroed before a backward pass: the first
/// pullback to reach one zeroes it, or a matrix product overwrites it (beta 0). These tests
/// fill the gradient arena with NaN first, so any element left unwritten or added onto shows.
@Suite("Pending gradients")
struct PendingGradientTests {
    /// Two hidden layers whose weights are each used twice, by products and `linear`.
    static func network(_ tape: Tape<Double>, _ v: [Variable<Double>]) -> Variable<Double> {
        let (x, w1, b1, w2) = (v[0], v[1], v[2], v[3])
        let h = relu(linear(x, weight: w1, bias: b1))
        let again = tanh(matmul(x, w1))
        let y = matmul(h, w2)
        return (y * y).sum() + matmul(again, w2).sum() + (h * again).sum()
    }

    static let inputs = [awayFromZero([6, 9], seed: 1), randomTensor([9, 12], seed: 2),
                         randomTensor([12], seed: 3), randomTensor([12, 5], seed: 4)]

    static func poisonGradients(_ tape: Tape<Double>) {
        tape.storage.pointee.gradients!.update(repeating: .nan, count: tape.storage.pointee.gradientsCapacity)
    }

    @Test("weights used twice by products get both parts (finite differences)")
    func sharedWeights() {
        expectGradients(at: Self.inputs, Self.network)
        // x·x: the first product's part overwrites, the second's adds.
        expectGradients(at: [randomTensor([7, 7], seed: 5)]) { _, v in
            let p = matmul(v[0], v[0]); return (p * p).sum() }
    }

    @Test("over an arena of NaN, a second backward pass gives the first one's gradients bit for bit")
    func arenaOfNaN() {
        let tape = Tape<Double>()
        let variables = Self.inputs.map { tape.variable($0) }
        let loss = Self.network(tape, variables)
        tape.backward(loss)
        let first = variables.map(\.gradient)
        Self.poisonGradients(tape)
        tape.backward(loss)
        for (i, (before, after)) in zip(first, variables.map(\.gradient)).enumerated() {
            #expect(before.scalars == after.scalars, "input \(i): expected \(before.scalars.prefix(4))…, got \(after.scalars.prefix(4))…")
        }
        #expect(tape.storage.pointee.pendingGradients == 0, "every pending gradient resolved after backward")
    }

    @Test("a parameter the loss does not use gets zeros, not what its gradient held")
    func unusedParameter() {
        let tape = Tape<Double>()
        let w = tape.parameter(randomTensor([4, 5], seed: 6))
        let v = tape.parameter(randomTensor([5, 3], seed: 7))
        tape.backward(matmul(w, v).sum())
        #expect(w.gradient.scalars.contains { $0 != 0 }, "w is used in the first step")
        tape.reset()
        Self.poisonGradients(tape)
        tape.backward((v * v).sum())
        #expect(w.gradient.scalars == [Double](repeating: 0, count: 20), "expected zeros, got \(w.gradient.scalars)")
        #expect(v.gradient.scalars == v.value.scalars.map { 2 * $0 })
    }

    @Test("anomaly detection does not read an untouched gradient's garbage")
    func anomalyDetectionSkipsPending() {
        let tape = Tape<Double>()
        tape.anomalyDetection = .record
        let x = tape.parameter(randomTensor([16], seed: 8))
        let loss = x.sum()
        tape.backward(loss)
        tape.reset()
        let y = tape.parameter(randomTensor([16], seed: 9))
        // A pullback that sends nothing to its input, over an arena of NaN.
        let blocked = tape.record("sendsNothing", shape: [16], y, forward: { ctx in
            ctx.output.value.update(from: ctx.a.value, count: 16)
        }, pullback: { _ in })
        Self.poisonGradients(tape)
        tape.backward((blocked * x).sum())
        #expect(tape.anomaly == nil, "expected no anomaly, got \(String(describing: tape.anomaly))")
        #expect(y.gradient.scalars == [Double](repeating: 0, count: 16))
    }
}
