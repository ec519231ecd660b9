import Autodiff
import Dispatch
import Foundation
import Testing

/// The 100-D Rosenbrock function Σ 100(x[i+1] - x[i]²)² + (1 - x[i])², written with slices.
func rosenbrock<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> {
    let n = x.shape[0]
    let (head, tail) = (x[0..<(n - 1)], x[1...])
    return ((tail - head.squared()).squared() * 100 + (1 - head).squared()).sum()
}

/// One RK4 step of the Lorenz system (σ 10, ρ 28, β 8/3) from a state [3], step h.
func lorenzStep<T: TensorScalar>(_ s: Variable<T>, h: T = 0.01) -> Variable<T> {
    func field(_ v: Variable<T>) -> Variable<T> {
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

/// The analytic Hessian of ``rosenbrock(_:)``, tridiagonal, [n, n].
func rosenbrockHessian(_ x: [Double]) -> [Double] {
    let n = x.count
    var h = [Double](repeating: 0, count: n * n)
    for i in 0..<(n - 1) {
        h[i * n + i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2
        h[(i + 1) * n + i + 1] += 200
        h[i * n + i + 1] = -400 * x[i]
        h[(i + 1) * n + i] = -400 * x[i]
    }
    return h
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
        let forward = jacobian(at: x, mode: .forward) { v in matmul(v.tape.constant(rotation.converted()), v) }
        #expect(forward.maxAbsoluteDifference(rotation) < 1e-15, "forward mode: the Jacobian of a linear map is its matrix, got \(forward)")
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
        let small = points.map { Tensor(shape: [10], scalars: Array($0.scalars[0..<10])) }
        @Sendable func all(_ i: Int) -> [Double] {
            gradient(at: points[i], of: rosenbrock).scalars
                + hessian(at: small[i], of: rosenbrock).scalars
                + hessianVectorProduct(at: points[i], direction: points[(i + 1) % 8], of: rosenbrock).scalars
                + jvp(at: points[i], direction: points[(i + 3) % 8], of: rosenbrock).differential.scalars
                + jacobian(at: small[i]) { stack([$0.sum(), $0.squared().sum()]) }.scalars
        }
        let expected = (0..<8).map(all)
        let results = ResultBox(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in results.set(i, all(i)) }
        #expect(results.values == expected)
    }
}

@Suite("Forward mode and second order: jvp, forward Jacobians, hessian, hessianVectorProduct")
struct SecondOrderFunctionalTests {
    @Test("the README's example: 2-D Rosenbrock gradient, Hessian, H·v and J·v at (-1.5, 2)")
    func readmeExample() {
        let x = Tensor([-1.5, 2.0])
        let g = gradient(at: x, of: rosenbrock)
        let h = hessian(at: x, of: rosenbrock)
        let hv = hessianVectorProduct(at: x, direction: Tensor([1.0, 0]), of: rosenbrock)
        let (y, dy) = jvp(at: x, direction: Tensor([0.0, 1]), of: rosenbrock)
        // f = (1 - a)² + 100(b - a²)²: ∇f = (-2(1 - a) - 400a(b - a²), 200(b - a²)).
        let (a, b) = (-1.5, 2.0)
        #expect(g == Tensor([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)]), "gradient \(g)")
        #expect(h == Tensor([[1200 * a * a - 400 * b + 2, -400 * a], [-400 * a, 200]]), "Hessian \(h)")
        #expect(hv == Tensor([h[0, 0], h[1, 0]]), "H·e₀ is the first column, got \(hv)")
        #expect(y.scalar == (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a) && dy.scalar == g[1])
    }

    @Test("the Hessian of the 100-D Rosenbrock function equals the analytic tridiagonal one to 1e-12")
    func rosenbrockHessianMatches() {
        let x = randomTensor([100], seed: 62, in: -1.5..<1.5)
        let h = hessian(at: x, of: rosenbrock)
        #expect(h.shape == [100, 100])
        let expected = rosenbrockHessian(x.scalars)
        let worst = zip(h.scalars, expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(worst < 1e-12, "Hessian: largest relative error \(worst)")
    }

    @Test("H·v equals the Hessian times v, and comes with the gradient of the same pass")
    func hessianVectorProducts() {
        let x = randomTensor([30], seed: 63, in: -1.5..<1.5)
        let v = randomTensor([30], seed: 64)
        let hv = hessianVectorProduct(at: x, direction: v, of: rosenbrock)
        let h = rosenbrockHessian(x.scalars)
        let expected = (0..<30).map { i in (0..<30).reduce(0.0) { $0 + h[i * 30 + $1] * v.scalars[$1] } }
        #expect(hv.maxAbsoluteDifference(Tensor(expected)) < 1e-9 * max(1, expected.map(abs).max()!), "H·v \(hv) against \(expected)")
        let both = valueGradientAndHessianVectorProduct(at: [x], directions: [v]) { rosenbrock($0[0]) }
        #expect(both.gradients[0] == gradient(at: x, of: rosenbrock), "the real part of the dual gradient is the gradient")
        #expect(both.hessianVectorProducts[0] == hv)
        #expect(abs(both.value - valueWithGradient(at: x, of: rosenbrock).value) <= 1e-12 * abs(both.value))
    }

    @Test("jvp is J·v: against the Jacobian by finite differences of the Lorenz RK4 step")
    func jacobianVectorProducts() {
        let state = Tensor<Double>([1, 1, 1])
        let v = Tensor<Double>([0.5, -2, 3])
        let (value, differential) = jvp(at: state, direction: v) { lorenzStep($0) }
        let j = numericJacobian(at: state) { lorenzStep($0) }
        let expected = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + j[i, $1] * v.scalars[$1] } }
        #expect(differential.maxAbsoluteDifference(Tensor(expected)) < 1e-7, "J·v \(differential) against \(expected)")
        let tape = Tape<Double>()
        #expect(value == lorenzStep(tape.constant(state)).value, "the real part of the dual value is the value")
    }

    @Test("forward and reverse Jacobians agree with finite differences, and automatic picks by shape")
    func forwardAndReverseJacobians() {
        let state = Tensor<Double>([1, 1, 1])
        let numeric = numericJacobian(at: state) { lorenzStep($0) }
        for mode in [DifferentiationMode.forward, .reverse, .automatic] {
            let j = jacobian(at: state, mode: mode) { lorenzStep($0) }
            #expect(j.shape == [3, 3])
            #expect(j.maxAbsoluteDifference(numeric) < 1e-7, "\(mode): \(j) against \(numeric)")
        }
        // R² → R⁵ (forward is cheaper) and R⁵ → R² (reverse is): both modes give the same matrix.
        let wide = randomTensor([2], seed: 65), tall = randomTensor([5], seed: 66)
        func expand<T: TensorScalar>(_ v: Variable<T>) -> Variable<T> { stack([v[0] * v[1], sin(v[0]), v[1].squared(), exp(v[0]), v[0] - v[1]]) }
        func contract<T: TensorScalar>(_ v: Variable<T>) -> Variable<T> { stack([(v * v).sum(), tanh(v).sum()]) }
        #expect(jacobian(at: wide, mode: .forward, of: expand).maxAbsoluteDifference(jacobian(at: wide, mode: .reverse, of: expand)) < 1e-14)
        #expect(jacobian(at: tall, mode: .forward, of: contract).maxAbsoluteDifference(jacobian(at: tall, mode: .reverse, of: contract)) < 1e-14)
        #expect(jacobian(at: tall, of: contract).shape == [2, 5])
        #expect(jacobian(at: wide, of: expand).shape == [5, 2])
    }

}
