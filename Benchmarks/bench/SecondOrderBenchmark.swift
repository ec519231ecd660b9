import Autodiff
import ExampleSupport
import Foundation

/// The cost of forward mode and of second order against first order, through the functional
/// API on the same function in the same run, alternating the two in every round: H·v against
/// a gradient (target ≤ 5×), J·v against a plain forward evaluation (target ≤ 3×). Then the 100-D
/// Rosenbrock Hessian against the analytic tridiagonal one (target 1e-12 relative).
func secondOrderBenchmark(_ options: CommandLineOptions) {
    let runs = options.int("runs", 21, in: 1...10_000)
    var generator = SeededGenerator(seed: 11)
    func random(_ shape: [Int]) -> Tensor<Double> { Tensor.randomUniform(shape, in: -1..<1, using: &generator) }

    let x = random([100])
    compare("rosenbrock-100", x: x, direction: random([100]), runs: runs, repetitions: 400, of: rosenbrock, rosenbrock)

    // A tanh network's loss as a function of its 2,817 weights (batch 64, 32-64-8-1, MSE).
    let inputs = random([64, 32]), targets = random([64, 1])
    let sizes = [(32, 64), (64, 8), (8, 1)]
    let weightCount = sizes.reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    func network<T: TensorScalar>(_ w: Variable<T>) -> Variable<T> {
        var h = w.tape.constant(inputs.converted(to: T.self))
        var offset = 0
        for (index, (fanIn, fanOut)) in sizes.enumerated() {
            let weight = w[offset..<(offset + fanIn * fanOut)].reshaped(to: [fanIn, fanOut])
            offset += fanIn * fanOut
            let bias = w[offset..<(offset + fanOut)]
            offset += fanOut
            h = linear(h, weight: weight, bias: bias)
            if index < sizes.count - 1 { h = tanh(h) }
        }
        return meanSquaredError(h, w.tape.constant(targets.converted(to: T.self)))
    }
    compare("tanh-mlp-2817", x: random([weightCount]) * 0.3, direction: random([weightCount]), runs: runs, repetitions: 40,
            of: network, network)

    // Lennard-Jones energy of 64 particles (broadcasting, integer powers, masks).
    let n = 64
    let eye = Tensor<Double>.identity(n)
    func energy<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> {
        let difference = x.reshaped(to: [n, 1, 3]) - x.reshaped(to: [1, n, 3])
        let squared = (difference * difference).sum(alongAxis: -1) + x.tape.constant(eye.converted(to: T.self))
        let inverse6 = pow(squared, -3)
        return ((inverse6.squared() - inverse6) * x.tape.constant((1 - eye).converted(to: T.self))).sum() * 2
    }
    let positions = Tensor(shape: [n, 3], scalars: latticePositions(n))
    compare("lennard-jones-64", x: positions, direction: random([n, 3]), runs: runs, repetitions: 20, of: energy, energy)

    let point = random([100]) * 1.5
    let h = hessian(at: point, of: rosenbrock)
    let p = point.scalars
    var worst = 0.0
    for i in 0..<100 {
        for j in 0..<100 {
            var expected = 0.0
            if i == j { expected = (i < 99 ? 1200 * p[i] * p[i] - 400 * p[i + 1] + 2 : 0) + (i > 0 ? 200 : 0) }
            if j == i + 1 || i == j + 1 { expected = -400 * p[min(i, j)] }
            worst = max(worst, abs(h[i, j] - expected) / max(1, abs(expected)))
        }
    }
    let hessianTime = Sample(values: (0..<runs).map { _ in seconds { _ = hessian(at: point, of: rosenbrock) } * 1e6 })
    print(hessianTime.line("rosenbrock-100 hessian [100, 100]", unit: "µs"))
    print("rosenbrock-100 hessian: largest relative error against the analytic tridiagonal Hessian \(String(format: "%.1e", worst)) (target 1e-12: \(worst <= 1e-12 ? "met" : "NOT met"))")
}

/// The 100-D Rosenbrock function Σ 100(x[i+1] - x[i]²)² + (1 - x[i])².
func rosenbrock<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> {
    let n = x.shape[0]
    let (head, tail) = (x[0..<(n - 1)], x[1...])
    return ((tail - head.squared()).squared() * 100 + (1 - head).squared()).sum()
}

/// Times forward, jvp, gradient and H·v of one function (given twice: on Double and on duals),
/// `repetitions` calls per sample, alternating within each round; prints each time and the two
/// ratios with their spread over the rounds.
func compare(
    _ name: String, x: Tensor<Double>, direction: Tensor<Double>, runs: Int, repetitions: Int,
    of plain: (Variable<Double>) -> Variable<Double>, _ dual: (Variable<Dual<Double>>) -> Variable<Dual<Double>>
) {
    var forward = Sample(), tangent = Sample(), gradients = Sample(), products = Sample()
    var jvpRatio = Sample(), hvpRatio = Sample()
    var sink = 0.0
    for _ in 0..<runs {
        let f = seconds {
            for _ in 0..<repetitions {
                let tape = Tape<Double>()
                sink += tape.withoutGradients { plain(tape.variable(x)).scalar }
            }
        }
        let j = seconds { for _ in 0..<repetitions { sink += jvp(at: x, direction: direction, of: dual).differential.scalar } }
        let g = seconds { for _ in 0..<repetitions { sink += gradient(at: x, of: plain).scalars[0] } }
        let h = seconds { for _ in 0..<repetitions { sink += hessianVectorProduct(at: x, direction: direction, of: dual).scalars[0] } }
        let scale = 1e6 / Double(repetitions)
        forward.add(f * scale); tangent.add(j * scale); gradients.add(g * scale); products.add(h * scale)
        jvpRatio.add(j / f); hvpRatio.add(h / g)
    }
    precondition(sink.isFinite || sink.isNaN || true)
    print(forward.line("\(name) forward", unit: "µs"))
    print(tangent.line("\(name) jvp", unit: "µs"))
    print(gradients.line("\(name) gradient", unit: "µs"))
    print(products.line("\(name) hessianVectorProduct", unit: "µs"))
    print(jvpRatio.line("\(name) jvp / forward", unit: "× (target ≤ 3)", digits: 2))
    print(hvpRatio.line("\(name) hessianVectorProduct / gradient", unit: "× (target ≤ 5)", digits: 2))
}
