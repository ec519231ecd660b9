// Minimises the Rosenbrock function with first-order optimizers on the tape and with Newton's
// method on the engine's exact second derivatives: the 2-D problem with every path drawn over
// the contour lines, then the 100-D problem, gradient descent against Newton-CG on
// Hessian-vector products.
import Autodiff
import ExampleSupport
import Foundation
import NeuralNetworks
import Plotting

let program = "example-rosenbrock"
let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Minimise the Rosenbrock function: gradient descent, Momentum, Adam and Newton's method (2-D, drawn), then gradient descent against Newton-CG (100-D).")
    options.option("iterations", "N", "most steps of each first-order method (default 200000)")
    options.option("dimension", "N", "size of the second problem, 2-10000 (default 100)")
    options.option("seed", "N", "seed of the second problem's start, near (-1.2, 1, -1.2, 1, …) (default 1)")
    options.option("out", "DIR", "where the picture goes (default example-rosenbrock-output)")
    options.parse()
    return options
}()
let maxIterations = options.int("iterations", 200_000, in: 1...100_000_000)
let dimension = options.int("dimension", 100, in: 2...10_000)
let seed = options.seed(1)
var pictures = PictureFolder(options.string("out", "example-rosenbrock-output"), program: program)
let tolerance = 1e-8

/// Σ 100(x[i+1] - x[i]²)² + (1 - x[i])², for any scalar type (so the same definition gives
/// values, gradients and, on duals, Hessians).
func rosenbrock<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> {
    let n = x.shape[0]
    let (head, tail) = (x[0..<(n - 1)], x[1...])
    return ((tail - head.squared()).squared() * 100 + (1 - head).squared()).sum()
}

func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// Where a method stopped and what it took.
struct Outcome {
    let name: String
    var iterations = 0
    var seconds = 0.0
    var point: [Double] = []
    var value = Double.nan
    var gradientNorm = Double.nan
    var diverged = false
    var note = ""
    /// The iterates (2-D) and |∇f| along the way (kept sparsely for long runs).
    var path: [[Double]] = []
    var history: [(seconds: Double, gradientNorm: Double)] = []

    var converged: Bool { gradientNorm < tolerance }

    func report() {
        let state = converged ? "converged" : diverged ? "DIVERGED" : "stopped"
        let where_ = point.count <= 4 ? point.map { String(format: "%.10f", $0) }.joined(separator: ", ")
            : "max |x - 1| \(String(format: "%.2e", point.map { abs($0 - 1) }.max() ?? .nan))"
        let numbers = String(format: "%9d iterations  %9.4f s  ", iterations, seconds)
        let result = String(format: "f %.3e  |∇f| %.3e", value, gradientNorm)
        print("  " + name.padding(toLength: 20, withPad: " ", startingAt: 0) + numbers
              + state.padding(toLength: 10, withPad: " ", startingAt: 0) + result + "  at (\(where_))" + (note.isEmpty ? "" : "  \(note)"))
    }
}

/// Whether to keep iteration i of a long run (every one at first, then sparser).
func keeps(_ i: Int) -> Bool { i < 200 || (i < 20_000 && i % 20 == 0) || i % 500 == 0 }

/// A first-order optimizer of NeuralNetworks on a one-parameter tape, until |∇f| < 1e-8, the
/// iteration limit, or a non-finite value.
func firstOrder(_ name: String, _ kind: OptimizerKind, rate: Double, from start: [Double], keepPath: Bool) -> Outcome {
    var outcome = Outcome(name: name)
    let tape = Tape<Double>()
    let x = tape.parameter(Tensor(start))
    var optimizer = kind.make(for: [x])
    let begin = Date()
    var iteration = 0
    while true {
        tape.reset()
        let f = rosenbrock(x)
        tape.backward(f)
        let g = tape.withGradient(of: x) { norm(Array($0)) }
        if keepPath { outcome.path.append(x.value.scalars) }
        let last = !f.scalar.isFinite || !g.isFinite || g < tolerance || iteration == maxIterations
        if keeps(iteration) || last { outcome.history.append((Date().timeIntervalSince(begin), g)) }
        outcome.value = f.scalar
        outcome.gradientNorm = g
        if !f.scalar.isFinite || !g.isFinite { outcome.diverged = true; break }
        if last { break }
        optimizer.step([x], learningRate: rate)
        iteration += 1
    }
    outcome.seconds = Date().timeIntervalSince(begin)
    outcome.iterations = iteration
    outcome.point = x.value.scalars
    if keepPath { outcome.path.append(outcome.point) }
    return outcome
}

/// f(x + t·p) ≤ f(x) + 10⁻⁴·t·∇f·p, halving t from 1 (Armijo's backtracking).
func lineSearch(at x: [Double], value: Double, gradient g: [Double], direction p: [Double]) -> [Double] {
    let slope = dot(g, p)
    var t = 1.0
    for _ in 0..<60 {
        let candidate = zip(x, p).map { $0 + t * $1 }
        let tape = Tape<Double>()
        let f = tape.withoutGradients { rosenbrock(tape.constant(Tensor(candidate))).scalar }
        if f <= value + 1e-4 * t * slope { return candidate }
        t /= 2
    }
    return zip(x, p).map { $0 + t * $1 }
}

/// Newton's method on the 2×2 Hessian from `hessian(at:of:)`: the step solves H·p = -∇f, with
/// H shifted by λI until it is positive definite, then a backtracking line search.
func newton(from start: [Double]) -> Outcome {
    var outcome = Outcome(name: "Newton (Hessian)")
    var x = start
    let begin = Date()
    var shifts = 0
    while true {
        outcome.path.append(x)
        let (value, gradient) = valueWithGradient(at: Tensor(x), of: rosenbrock)
        let g = gradient.scalars
        outcome.value = value
        outcome.gradientNorm = norm(g)
        outcome.history.append((Date().timeIntervalSince(begin), outcome.gradientNorm))
        if outcome.converged || outcome.iterations == 200 || !value.isFinite { break }
        let h = hessian(at: Tensor(x), of: rosenbrock).scalars
        var shift = 0.0
        var step: [Double] = []
        while true {
            let (a, b, d) = (h[0] + shift, h[1], h[3] + shift)
            let determinant = a * d - b * b
            if a > 0 && determinant > 0 {
                step = [-(d * g[0] - b * g[1]) / determinant, -(a * g[1] - b * g[0]) / determinant]
                break
            }
            shift = max(2 * shift, 1e-3 * (abs(h[0]) + abs(h[3]) + 1))
            shifts += 1
        }
        x = lineSearch(at: x, value: value, gradient: g, direction: step)
        outcome.iterations += 1
    }
    outcome.seconds = Date().timeIntervalSince(begin)
    outcome.point = x
    outcome.diverged = !outcome.value.isFinite
    if shifts > 0 { outcome.note = "(\(shifts) shift\(shifts == 1 ? "" : "s") to a positive definite H)" }
    return outcome
}

/// Newton-CG: each step solves H·p = -∇f by conjugate gradients on Hessian-vector products
/// (forward over reverse, no finite differences), stopping early at a residual of
/// min(0.5, √|∇f|)·|∇f| or at negative curvature, then a backtracking line search.
func newtonCG(from start: [Double]) -> Outcome {
    var outcome = Outcome(name: "Newton-CG (H·v)")
    var x = start
    var products = 0
    let begin = Date()
    while true {
        let (value, gradient) = valueWithGradient(at: Tensor(x), of: rosenbrock)
        let g = gradient.scalars
        outcome.value = value
        outcome.gradientNorm = norm(g)
        outcome.history.append((Date().timeIntervalSince(begin), outcome.gradientNorm))
        if outcome.converged || outcome.iterations == 1000 || !value.isFinite { break }
        let target = min(0.5, outcome.gradientNorm.squareRoot()) * outcome.gradientNorm
        var p = [Double](repeating: 0, count: x.count)
        var r = g.map { -$0 }
        var d = r
        var rr = dot(r, r)
        for k in 0..<(2 * x.count) {
            let hd = hessianVectorProduct(at: Tensor(x), direction: Tensor(d), of: rosenbrock).scalars
            products += 1
            let curvature = dot(d, hd)
            if curvature <= 0 {
                if k == 0 { p = r }  // negative curvature at once: steepest descent
                break
            }
            let alpha = rr / curvature
            for i in p.indices { p[i] += alpha * d[i]; r[i] -= alpha * hd[i] }
            let next = dot(r, r)
            if next.squareRoot() < target { break }
            for i in d.indices { d[i] = r[i] + (next / rr) * d[i] }
            rr = next
        }
        x = lineSearch(at: x, value: value, gradient: g, direction: p)
        outcome.iterations += 1
    }
    outcome.seconds = Date().timeIntervalSince(begin)
    outcome.point = x
    outcome.diverged = !outcome.value.isFinite
    outcome.note = "(\(products) Hessian-vector products)"
    return outcome
}

// MARK: The 2-D problem

let start2D = [-1.5, 2.0]
print("\(program): f(x, y) = (1 - x)² + 100(y - x²)², minimum f(1, 1) = 0, from (-1.5, 2), until |∇f| < 1e-8 (at most \(maxIterations) steps)")
let methods2D: [Outcome] = [
    firstOrder("gradient descent", .sgd, rate: 5e-4, from: start2D, keepPath: true),
    firstOrder("Momentum 0.9", .momentum(0.9), rate: 1e-4, from: start2D, keepPath: true),
    firstOrder("Adam", .adam(beta1: 0.9, beta2: 0.999), rate: 0.02, from: start2D, keepPath: true),
    newton(from: start2D),
]
print("  method                 iterations         time  state")
for outcome in methods2D { outcome.report() }

let (xRange, yRange) = (-2.0...2.0, -1.0...3.0)
let resolution = 321
var grid = [Double](repeating: 0, count: resolution * resolution)
for row in 0..<resolution {
    for column in 0..<resolution {
        let (x, y) = ContourPlot.gridPoint(row: row, column: column, resolution: resolution, xRange: xRange, yRange: yRange)
        grid[row * resolution + column] = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
    }
}
var plot = ContourPlot(
    title: "Rosenbrock function: paths from (-1.5, 2) to the minimum (1, 1)", xRange: xRange, yRange: yRange,
    resolution: resolution, values: grid, levels: [1, 4, 16, 64, 256, 1024],
    paths: methods2D.map { outcome in
        Series("\(outcome.name): \(outcome.iterations) it.", x: outcome.path.map { $0[0] }, y: outcome.path.map { $0[1] })
    })
plot.marker = (1, 1)
pictures.write(plot.render(), as: "paths.svg", caption: "each method's iterates over the contour lines of the 2-D Rosenbrock function")

// MARK: The n-D problem

var generator = SeededGenerator(seed: seed)
let startND = (0..<dimension).map { ($0 % 2 == 0 ? -1.2 : 1.0) + 0.1 * (Double(generator.next() >> 11) / Double(1 << 53) - 0.5) }
print("\n\(dimension)-D: Σ 100(x[i+1] - x[i]²)² + (1 - x[i])², minimum at (1, …, 1), from near (-1.2, 1, -1.2, 1, …) (seed \(seed))")
let methodsND = [
    firstOrder("gradient descent", .sgd, rate: 5e-4, from: startND, keepPath: false),
    newtonCG(from: startND),
]
print("  method                 iterations         time  state")
for outcome in methodsND { outcome.report() }
let curves = methodsND.map { outcome in
    Series(outcome.name, x: outcome.history.map { $0.seconds * 1000 },
           y: outcome.history.map { max($0.gradientNorm, 1e-300) })
}
var chart = LineChart(title: "\(dimension)-D Rosenbrock: |∇f| against time", xLabel: "milliseconds", yLabel: "|∇f|",
                      logarithmicY: true, series: curves)
chart.width = 820
pictures.write(chart.render(), as: "convergence.svg", caption: "the gradient's norm against time along gradient descent and Newton-CG (\(dimension)-D)")
pictures.writeIndex(title: program)
