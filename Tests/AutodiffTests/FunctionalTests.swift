import Autodiff
import Dispatch
import Foundation
import Testing

/// The 100-D Rosenbrock function Σ 100(x[i+1] - x[i]²)² + (1 - x[i])², written with slices.
func rosenbrock(_ x: Variable<Double>) -> Variable<Double> {
    let n = x.shape[0]
    let (head, tail) = (x[0..<(n - 1)], x[1...])
    return ((tail - head.squared()).squared() * 100 + (1 - head).squared()).sum()
}

/// One RK4 step of the Lorenz system (σ 10, ρ 28, β 8/3) from a state [3], step h.
func lorenzStep(_ s: Variable<Double>, h: Double = 0.01) -> Variable<Double> {
    func field(_ v: Variable<Double>) -> Variable<Double> {
        let (x, y, z) = (v[0], v[1], v[2])
        return stack([(y - x) * 10, x * (28 - z) - y, x * y - z * (8.0 / 3)])
    }
    let k1 = field(s)
    let k2 = field(s + k1 * (h / 2))
    let k3 = field(s + k2 * (h / 2))
    let k4 = field(s + k3 * h)
    return s + (k1 + k2 * 2 + k3 * 2 + k4) * (h / 6)
}

/// The Jacobian by central differences, [m, n].
func numericJacobian(at x: Tensor<Double>, step h: Double = 1e-6, _ f: (Variable<Double>) -> Variable<Double>) -> Tensor<Double> {
    func value(_ point: Tensor<Double>) -> [Double] {
        let tape = Tape<Double>()
        return f(tape.constant(point)).value.scalars
    }
    let m = value(x).count
    var columns: [[Double]] = []
    for j in 0..<x.count {
        var plus = x, minus = x
        plus.withUnsafeMutableBufferPointer { $0[j] += h }
        minus.withUnsafeMutableBufferPointer { $0[j] -= h }
        columns.append(zip(value(plus), value(minus)).map { ($0 - $1) / (2 * h) })
    }
    return Tensor(shape: [m, x.count], scalars: (0..<m).flatMap { i in columns.map { $0[i] } })
}

@Suite("The functional API: gradient, valueWithGradient, vjp, jacobian")
struct FunctionalTests {
    @Test("the gradient of the 100-D Rosenbrock function equals the analytic one")
    func rosenbrockGradient() {
        let x = randomTensor([100], seed: 61, in: -1.5..<1.5)
        let (value, g) = valueWithGradient(at: x, of: rosenbrock)
        let v = x.scalars
        var expected = [Double](repeating: 0, count: 100)
        var total = 0.0
        for i in 0..<99 {
            let t = v[i + 1] - v[i] * v[i]
            total += 100 * t * t + (1 - v[i]) * (1 - v[i])
            expected[i] += -400 * v[i] * t - 2 * (1 - v[i])
            expected[i + 1] += 200 * t
        }
        #expect(abs(value - total) <= 1e-12 * abs(total), "f: expected \(total), got \(value)")
        let worst = zip(g.scalars, expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(worst < 1e-12, "gradient: largest relative error \(worst)")
        #expect(gradient(at: x, of: rosenbrock) == g)
    }

    @Test("Jacobians of R³ → R³ maps: a rotation, one RK4 step of the Lorenz system")
    func jacobians() {
        let (c, s) = (cos(0.7), sin(0.7))
        let rotation = Tensor<Double>([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        let x = Tensor<Double>([1.5, -0.5, 2])
        let j = jacobian(at: x) { v in matmul(v.tape.constant(rotation), v) }
        #expect(j.maxAbsoluteDifference(rotation) < 1e-15, "the Jacobian of a linear map is its matrix, got \(j)")
        let state = Tensor<Double>([1, 1, 1])
        let analytic = jacobian(at: state) { lorenzStep($0) }
        let numeric = numericJacobian(at: state) { lorenzStep($0) }
        #expect(analytic.shape == [3, 3])
        #expect(analytic.maxAbsoluteDifference(numeric) < 1e-7, "Lorenz RK4 step: \(analytic) against \(numeric)")
    }

    @Test("vjp's pullback is vᵀJ for any v, and several inputs get one gradient each")
    func vectorJacobianProducts() {
        let x = Tensor<Double>([0.3, -1.2, 2])
        let (value, pullback) = vjp(at: x) { v in stack([sin(v[0]) * v[1], v[2].squared(), v[0] * v[1] * v[2]]) }
        #expect(value.shape == [3])
        let j = numericJacobian(at: x) { v in stack([sin(v[0]) * v[1], v[2].squared(), v[0] * v[1] * v[2]]) }
        for seed in [Tensor<Double>([1, 0, 0]), Tensor([0.5, -2, 3])] {
            let expected = (0..<3).map { col in (0..<3).reduce(0.0) { $0 + seed.scalars[$1] * j[$1, col] } }
            #expect(pullback(seed).maxAbsoluteDifference(Tensor(expected)) < 1e-7)
        }
        let gradients = gradient(at: [Tensor(2.0), Tensor([1.0, 3])]) { v in (v[0] * v[1]).sum() }
        #expect(gradients == [Tensor(4.0), Tensor([2.0, 2.0])])
    }

    @Test("calls on several threads at once give the results of one at a time")
    func threads() {
        let points = (0..<8).map { randomTensor([100], seed: 70 + UInt64($0), in: -1..<1) }
        let expected = points.map { gradient(at: $0, of: rosenbrock) }
        let results = ResultBox(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in results.set(i, gradient(at: points[i], of: rosenbrock).scalars) }
        #expect(results.values == expected.map(\.scalars))
    }
}
