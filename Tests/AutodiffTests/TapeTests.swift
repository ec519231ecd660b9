@testable import Autodiff
import Dispatch
import Testing

@Suite("Tape")
struct TapeTests {
    @Test("a reset tape reuses its memory: steady-state steps do not grow it")
    func reuse() {
        var generator = SeededGenerator(seed: 12)
        let tape = Tape<Float>()
        let w = tape.parameter(.randomUniform([16, 8], in: -1..<1, using: &generator))
        let x = Tensor<Float>.randomUniform([32, 16], in: -1..<1, using: &generator)
        func step() {
            tape.reset()
            tape.backward(softmaxCrossEntropy(logits: matmul(tape.constant(x), w), labels: Array(repeating: 3, count: 32)))
        }
        step()
        let capacities = (tape.storage.pointee.valuesCapacity, tape.storage.pointee.capacity, tape.storage.pointee.intsCapacity)
        for _ in 0..<100 { step() }
        #expect(tape.storage.pointee.valuesCapacity == capacities.0 && tape.storage.pointee.capacity == capacities.1
                && tape.storage.pointee.intsCapacity == capacities.2)
        #expect(tape.count == 1 + 3, "the parameter plus this step's three entries")
    }

    @Test("a new tape takes a retired tape's arenas (small ones, and one large set), starts empty, and what pullbacks captured is freed")
    func warmArenas() {
        // Tapes of Dual<Float>, which no other test records: the header pool is per scalar type
        // and shared by the tests running at the same time.
        typealias S = Dual<Float>
        final class Captured {}
        weak var captured: Captured?
        var arenas: UnsafeMutablePointer<S>?
        do {
            let tape = Tape<S>()
            let object = Captured()
            captured = object
            let x = tape.parameter(Tensor<S>([1, 2, 3]))
            let y = tape.record("capturing", shape: [3], x, forward: { ctx in
                for i in 0..<3 { ctx.output.value[i] = ctx.a.value[i] * 2 }
            }, pullback: { ctx in
                _ = object
                for i in 0..<3 { ctx.a.gradient![i] += 2 * ctx.output.gradient![i] }
            })
            tape.backward((y * y).sum())
            arenas = tape.storage.pointee.values
        }
        #expect(captured == nil, "the pullback's capture should be released with its tape")
        let tape = Tape<S>()
        #expect(tape.storage.pointee.values == arenas, "the next tape should take the retired arenas")
        #expect(tape.count == 0 && tape.storage.pointee.valuesUsed == 0 && tape.isRecording && tape.matrixThreads == nil)
        let x = tape.parameter(Tensor<S>([4, 5]))
        tape.backward((x * x).sum())
        #expect(x.gradient == Tensor<S>([8, 10]), "a warm tape computes as a fresh one, got \(x.gradient)")

        // Large arenas (8 MB of values): one set per scalar type is kept for the next tape, no more.
        func large() -> Tape<S> {
            let tape = Tape<S>()
            _ = tape.constant(Tensor<S>.zeros([1 << 20])).sum()
            return tape
        }
        var largeArenas = large().storage.pointee.values
        let b = Tape<S>()
        #expect(b.storage.pointee.values == largeArenas, "the next tape should take the retired large arenas")
        do {
            let c = large()
            largeArenas = c.storage.pointee.values
        }
        withExtendedLifetime(b) {}
        let d = Tape<S>(), e = Tape<S>()
        #expect(d.storage.pointee.values == largeArenas, "the most recent large set should be kept")
        #expect(e.storage.pointee.valuesCapacity < 1 << 20, "a second large set should have been freed, not kept")
        withExtendedLifetime((d, e)) {}
    }

    @Test("tapes on several threads at once give the results of one thread")
    func threads() {
        @Sendable func work(_ seed: Int) -> [Double] {
            let tape = Tape<Double>()
            let x = tape.parameter(Tensor(shape: [3, 3], scalars: (0..<9).map { Double($0 + seed) / 10 }))
            for _ in 0..<200 {
                tape.reset()
                tape.backward(tanh(matmul(x, x)).sum())
            }
            return x.gradient.scalars
        }
        let expected = (0..<8).map(work)
        let results = ResultBox(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in results.set(i, work(i)) }
        #expect(results.values == expected)
    }

    @Test("inference mode records no gradients; constants never get one")
    func inference() {
        let tape = Tape<Double>()
        let w = tape.parameter(Tensor([1.0, 2.0]))
        let c = tape.constant(Tensor([3.0, 4.0]))
        #expect((w * c).requiresGradient && !(c * c).requiresGradient)
        let y = tape.withoutGradients { (w * c).sum() }
        #expect(!y.requiresGradient && y.scalar == 11)
        tape.backward((w * c).sum())
        #expect(w.gradient == Tensor([3.0, 4.0]))
    }

    @Test("misuse stops with a message naming the problem")
    func misuse() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Double>()
            tape.backward(tape.parameter(Tensor([1.0, 2.0])) * 2)
        }.map { #expect(String(decoding: $0.standardErrorContent, as: UTF8.self).contains("backward: the loss has shape [2], not a single element")) }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let (a, b) = (Tape<Double>(), Tape<Double>())
            _ = a.parameter(Tensor(1.0)) + b.parameter(Tensor(2.0))
        }.map { #expect(String(decoding: $0.standardErrorContent, as: UTF8.self).contains("add: the variable belongs to another tape")) }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Double>()
            let stale = tape.constant(Tensor(1.0))
            tape.reset()
            _ = exp(stale)
        }.map { #expect(String(decoding: $0.standardErrorContent, as: UTF8.self).contains("exp: the variable was recorded before the tape was reset")) }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Float>()
            _ = tape.constant(.zeros([7, 13])) + tape.constant(.zeros([7, 12]))
        }.map { #expect(String(decoding: $0.standardErrorContent, as: UTF8.self).contains("add: [7, 13] and [7, 12]: shapes cannot be broadcast together")) }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            // The result of an op does not keep its tape alive; a new tape may even reuse the
            // old tape's header.
            func orphan() -> Variable<Double> { Tape<Double>().variable(Tensor(2.0)) * 3 }
            let result = orphan()
            let other = Tape<Double>()
            _ = exp(result)
            _ = other
        }.map { #expect(String(decoding: $0.standardErrorContent, as: UTF8.self).contains("exp: the tape of this variable no longer exists")) }
    }

    @Test("a parameter keeps its tape alive; results of ops see it through their inputs")
    func leavesKeepTheirTape() {
        func makeParameter() -> Variable<Double> { Tape<Double>().parameter(Tensor(3.0)) }
        let x = makeParameter()
        let y = x * x + 1
        x.tape.backward(y)
        #expect(y.tape === x.tape, "a result should report the tape of its inputs")
        #expect(x.gradient.scalar == 6, "expected d(x² + 1)/dx = 6 at x = 3, got \(x.gradient.scalar)")
    }
}

/// Results written by concurrent workers, each to its own slot.
final class ResultBox: @unchecked Sendable {
    private var slots: [[Double]]
    private let lock = DispatchQueue(label: "results")
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [Double]) { lock.sync { slots[i] = value } }
    var values: [[Double]] { lock.sync { slots } }
}
