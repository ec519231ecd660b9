import Autodiff
import CKernels
import Testing

@testable import NeuralNetworks

/// The vectorised Float updates against the plain Swift loops they replace, element by element
/// and bit for bit, on every kernel set the CPU runs (lengths that leave every tail length).
@Suite("Optimizer kernels")
struct OptimizerKernelTests {
    struct State: Equatable {
        var w: [Float], m: [Float], v: [Float]
    }

    static func start(_ n: Int) -> (State, [Float]) {
        var generator = SeededGenerator(seed: UInt64(n) + 17)
        func uniform(_ scale: Float) -> [Float] {
            (0..<n).map { _ in scale * (Float(generator.nextUnitDouble()) * 2 - 1) }
        }
        let v = uniform(1).map { $0 * $0 }  // Adam's second moment is never negative.
        return (State(w: uniform(1), m: uniform(0.1), v: v), uniform(3))
    }

    static let lengths = [0, 1, 7, 8, 15, 16, 17, 33, 100, 1000]
    let lr: Float = 0.05, decay: Float = 1e-3, mu: Float = 0.9, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8

    @Test("SGD, momentum and Adam in C give the Swift loops' bits", arguments: lengths)
    func sameBits(_ n: Int) {
        let (initial, g) = Self.start(n)
        var sgd = initial, momentum = initial, adam = initial
        for i in 0..<n {
            sgd.w[i] -= lr * (g[i] + decay * sgd.w[i])
            momentum.m[i] = mu * momentum.m[i] - lr * (g[i] + decay * momentum.w[i])
            momentum.w[i] += momentum.m[i]
            let gi = g[i] + decay * adam.w[i]
            adam.m[i] = b1 * adam.m[i] + (1 - b1) * gi
            adam.v[i] = b2 * adam.v[i] + (1 - b2) * gi * gi
            adam.w[i] -= lr * adam.m[i] / (adam.v[i].squareRoot() + eps)
        }
        for set in ComputeSettings.supportedInstructionSets {
            let path = Int32(set.rawValue)
            var state = initial
            ck_ssgd(n, &state.w, g, lr, decay, path)
            #expect(state == State(w: sgd.w, m: initial.m, v: initial.v), "SGD, \(set), n \(n)")
            state = initial
            ck_smomentum(n, &state.w, g, &state.m, lr, decay, mu, path)
            #expect(state == State(w: momentum.w, m: momentum.m, v: initial.v), "momentum, \(set), n \(n)")
            state = initial
            ck_sadam(n, &state.w, g, &state.m, &state.v, lr, decay, b1, b2, eps, path)
            #expect(state == adam, "Adam, \(set), n \(n)")
        }
    }

    /// A moment decaying without gradient must not linger among the subnormals (each operation on
    /// one a microcode assist on x86): the update reads and writes them as zero, on every path.
    @Test("updates treat subnormal moments as zero, on every kernel set, Float and Double")
    func subnormalsFlushed() {
        let saved = ComputeSettings.instructionSet
        defer { ComputeSettings.instructionSet = saved }
        for set in ComputeSettings.supportedInstructionSets {
            ComputeSettings.instructionSet = set
            flushes(Float.self, set)
            flushes(Double.self, set)
        }
    }

    func flushes<S: TensorScalar>(_: S.Type, _ set: KernelInstructionSet) {
        let n = 37  // vectors and a tail
        let tape = Tape<S>()
        let w = tape.parameter(Tensor(shape: [n], scalars: (0..<n).map { S($0 + 1) }))
        for kind in [OptimizerKind.adam(beta1: 0.9, beta2: 0.999), .momentum(0.9)] {
            var optimizer = kind.make(for: [w])
            let subnormal = S.leastNonzeroMagnitude * 5
            if !optimizer.first.isEmpty { optimizer.first = [S](repeating: subnormal, count: n) }
            if !optimizer.second.isEmpty { optimizer.second = [S](repeating: subnormal, count: n) }
            tape.reset()
            tape.backward((w * 0).sum())
            let before = w.value.scalars
            optimizer.step([w], learningRate: 0.1)
            #expect(optimizer.first.allSatisfy { $0 == 0 }, "\(kind), \(S.self), \(set): a subnormal first moment stayed: \(optimizer.first.prefix(3))")
            #expect(optimizer.second.allSatisfy { $0 == 0 }, "\(kind), \(S.self), \(set): a subnormal second moment stayed")
            #expect(w.value.scalars == before, "\(kind), \(S.self), \(set): weights moved by a subnormal step")
        }
    }
}
