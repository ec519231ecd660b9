// Finds square roots by gradient descent on the tape: the loss is the plain expression
// (x·x - d)², and the tape supplies d(loss)/dx.
import Autodiff
import ExampleSupport
import Foundation
import Plotting

let usage = """
    usage: example-sqrt [NUMBER] [--lr RATE] [--steps N] [--graph] [--out DIR]
                                      find √NUMBER by gradient descent (default 2; default rate
                                      1/(8·max(NUMBER, 1)), the fastest stable one; at most N steps,
                                      default 100000); --graph also draws the first step's
                                      computational graph with its values and gradients
                                      (graph.svg and graph.dot in DIR)
           example-sqrt --table [--seed N] [--out DIR]
                                      solve 500 numbers in [0, 1000] at once for several
                                      (learning rate, steps) settings, print the largest errors and
                                      draw the estimates against √x (default DIR example-sqrt-output)
           example-sqrt --help
    """

/// √d by gradient descent from x = 1, printing progress; returns the estimate, or stops with
/// a message when the steps diverge (a rate above about 2/(8d) overshoots the root more each time).
func squareRoot(of d: Double, learningRate chosen: Double? = nil, steps: Int = 100_000) -> Double {
    let tape = Tape<Double>()
    let x = tape.parameter(Tensor(1.0))
    // f(x) = (x² - d)² has curvature 8d at the root, so 1/(8d) is the step that converges
    // fastest there; starting below the root keeps the cubic growth above it out of reach.
    // Below 1 the step stays at 1/8: for d = 0 the curvature vanishes and descent is slow.
    let learningRate = chosen ?? 1 / (8 * max(d, 1))
    var previous = Double.infinity
    for step in 0..<steps {
        tape.reset()
        let loss = (x * x - d).squared()
        tape.backward(loss)
        var estimate = 0.0
        tape.update(x) { value, gradient in
            value[0] -= learningRate * gradient[0]
            estimate = value[0]
        }
        // Stop when a step moves x by at most two units in the last place: at the root the
        // iteration can alternate between neighbouring doubles forever.
        let converged = abs(estimate - previous) <= 2 * estimate.ulp
        if step < 5 || step.isMultiple(of: 1000) || converged {
            print(String(format: "step %5d  x = %.15f  loss = %.3e", step, estimate, loss.scalar))
        }
        guard estimate.isFinite else {
            FileHandle.standardError.write(Data("example-sqrt: diverged at step \(step): x = \(estimate) (lr \(learningRate) is too large for √\(d); try at most \(2 / (8 * max(d, 1))))\n".utf8))
            exit(1)
        }
        previous = estimate
        if converged { return previous }
    }
    print("not converged after \(steps) steps: x still moves (a rate above \(2 / (8 * max(d, 1))) overshoots; more --steps or a lower --lr)")
    return previous
}

/// The first step's graph at x = 1: each node with its value and gradient, each edge with the
/// value it carries and the gradient sent back along it (upstream × local derivative).
func drawGraph(of d: Double, out: String) {
    let tape = Tape<Double>()
    let x = tape.parameter(Tensor(1.0))
    let loss = (x * x - d).squared()
    tape.backward(loss)
    var pictures = PictureFolder(out, program: "example-sqrt")
    pictures.writeGraph(tape.graph(of: loss), as: "graph", title: "One step of √\(d) at x = 1: loss = (x·x − d)²")
    pictures.writeIndex(title: "example-sqrt --graph")
}

/// The largest error of √d for 500 numbers in [0, 1000] solved at once as one tensor, and a
/// chart of every setting's estimates against the true square root.
func tableOfSettings(seed: UInt64, out: String) {
    var generator = SeededGenerator(seed: seed)
    let targets = Tensor<Double>.randomUniform([500], in: 0..<1000, using: &generator)
    let truth = targets.map { $0.squareRoot() }
    let order = targets.scalars.indices.sorted { targets.scalars[$0] < targets.scalars[$1] }
    var series: [Series] = []
    print("500 numbers in [0, 1000], loss Σ(x² - d)², x starts at 1")
    print("learning rate     steps   largest |x - √d|   at d")
    var errors: [Series] = []
    // 1e-3 is above 2/(8·1000), the stable limit for the largest numbers: that row diverges.
    for learningRate in [1e-5, 1e-4, 2e-4, 1e-3] {
        for steps in [100, 1_000, 10_000] {
            let tape = Tape<Double>()
            let x = tape.parameter(Tensor(repeating: 1, shape: [500]))
            let d = tape.persistentConstant(targets)
            for _ in 0..<steps {
                tape.reset()
                tape.backward((x * x - d).squared().sum())
                tape.update(x) { value, gradient in
                    for i in value.indices { value[i] -= learningRate * gradient[i] }
                }
            }
            let estimate = x.value
            var worst = (error: 0.0, at: 0.0)
            for i in 0..<500 {
                let error = abs(estimate.scalars[i] - truth.scalars[i])
                if !(error <= worst.error) { worst = (error, targets.scalars[i]) }
            }
            let diverged = estimate.scalars.filter { !$0.isFinite }.count
            if diverged > 0 {
                print(String(format: "%-13g %9d   diverged for %d of 500 (from d = %.0f up)", learningRate, steps, diverged,
                             targets.scalars.indices.filter { !estimate.scalars[$0].isFinite }.map { targets.scalars[$0] }.min() ?? 0))
            } else {
                print(String(format: "%-13g %9d   %16.3e   %7.2f", learningRate, steps, worst.error, worst.at))
            }
            let name = "lr \(learningRate) × \(steps)"
            let dashed = learningRate >= 1e-3  // the diverging rate: dashed, so colours need not repeat
            series.append(Series(name, x: order.map { targets.scalars[$0] }, y: order.map { estimate.scalars[$0] }, dashed: dashed))
            // The error on a log axis tells the settings apart where the estimates overlap;
            // exact results are drawn at 1e-16, diverged ones leave gaps.
            errors.append(Series(name, x: order.map { targets.scalars[$0] },
                                 y: order.map { max(abs(estimate.scalars[$0] - truth.scalars[$0]), 1e-16) }, dashed: dashed))
        }
    }
    series.append(Series("√x", x: order.map { targets.scalars[$0] }, y: order.map { truth.scalars[$0] }, dashed: true))
    var chart = LineChart(title: "√x by gradient descent: estimates for each setting", xLabel: "x", yLabel: "estimate of √x", series: series)
    chart.width = 900
    var pictures = PictureFolder(out, program: "example-sqrt")
    pictures.write(chart.render(), as: "estimates.svg", caption: "the estimates of each (learning rate, steps) setting against √x")
    var errorChart = LineChart(title: "√x by gradient descent: error of each setting", xLabel: "x", yLabel: "|estimate − √x|",
                               logarithmicY: true, series: errors)
    errorChart.width = 900
    pictures.write(errorChart.render(), as: "errors.svg", caption: "the error |x − √d| of each setting, log scale (gaps: diverged)")
    pictures.writeIndex(title: "example-sqrt --table")
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("example-sqrt: \(message)\n\(usage)\n".data(using: .utf8)!)
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
/// Removes `--name VALUE` from the arguments and returns the value.
@MainActor func take(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name) else { return nil }
    guard i + 1 < arguments.count else { fail("\(name) needs a value") }
    let value = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
    return value
}
let out = take("--out") ?? "example-sqrt-output"
let drawsGraph = arguments.contains("--graph")
arguments.removeAll { $0 == "--graph" }
let rateText = take("--lr"), stepsText = take("--steps")
guard rateText == nil || Double(rateText!).map({ $0 > 0 && $0.isFinite }) == true else { fail("--lr needs a positive number, got '\(rateText!)'") }
guard stepsText == nil || Int(stepsText!).map({ $0 > 0 }) == true else { fail("--steps needs a positive integer, got '\(stepsText!)'") }
let chosenRate = rateText.flatMap(Double.init)
let chosenSteps = stepsText.flatMap(Int.init) ?? 100_000
let seedText = take("--seed")
guard seedText == nil || UInt64(seedText!) != nil else { fail("--seed needs a non-negative integer, got '\(seedText!)'") }
if let table = arguments.firstIndex(of: "--table") {
    arguments.remove(at: table)
    guard arguments.isEmpty else { fail("unexpected arguments \(arguments)") }
    tableOfSettings(seed: seedText.flatMap(UInt64.init) ?? 2026, out: out)
    exit(0)
}
switch arguments.count {
case 0:
    if drawsGraph { drawGraph(of: 2, out: out) }
    let root = squareRoot(of: 2, learningRate: chosenRate, steps: chosenSteps)
    print(String(format: "gradient descent: √2 = %.15f\nFoundation.sqrt:  √2 = %.15f", root, 2.0.squareRoot()))
case 1:
    if arguments[0].hasPrefix("--") && Double(arguments[0]) == nil { fail("unknown flag \(arguments[0])") }
    guard let d = Double(arguments[0]), d.isFinite, d >= 0 else { fail("'\(arguments[0])' is not a finite number ≥ 0") }
    // The loss (x² - d)² must stay finite in Double.
    guard d <= 1e150 else { fail("\(arguments[0]) is too large: (x² - d)² overflows Double above d = 1e150") }
    if drawsGraph { drawGraph(of: d, out: out) }
    let root = squareRoot(of: d, learningRate: chosenRate, steps: chosenSteps)
    print(String(format: "gradient descent: √%g = %.15f\nFoundation.sqrt:  √%g = %.15f", d, root, d, d.squareRoot()))
default:
    fail("unexpected arguments \(arguments)")
}
