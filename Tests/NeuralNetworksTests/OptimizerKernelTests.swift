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
}
