// Finds square roots by gradient descent on the tape: the loss is the plain expression
// (x·x - d)², and the tape supplies d(loss)/dx.
import Autodiff
import Foundation

let usage = """
    usage: example-sqrt [NUMBER]      find √NUMBER by gradient descent (default 2)
           example-sqrt --table       solve 500 numbers in [0, 1000] at once for several
                                      (learning rate, steps) settings and print the largest errors
           example-sqrt --help
    """

/// √d by gradient descent from x = 1, printing progress; returns the estimate.
func squareRoot(of d: Double) -> Double {
    let tape = Tape<Double>()
    let x = tape.parameter(Tensor(1.0))
    // f(x) = (x² - d)² has curvature 8d at the root, so 1/(8d) is the step that converges
    // fastest there; starting below the root keeps the cubic growth above it out of reach.
    // Below 1 the step stays at 1/8: for d = 0 the curvature vanishes and descent is slow.
    let learningRate = 1 / (8 * max(d, 1))
    var previous = Double.infinity
    for step in 0..<100_000 {
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
        previous = estimate
        if converged { break }
    }
    return previous
}

/// The largest error of √d for 500 numbers in [0, 1000] solved at once as one tensor.
func tableOfSettings() {
    var generator = SeededGenerator(seed: 2026)
    let targets = Tensor<Double>.randomUniform([500], in: 0..<1000, using: &generator)
    let truth = targets.map { $0.squareRoot() }
    print("500 numbers in [0, 1000], loss Σ(x² - d)², x starts at 1")
    print("learning rate     steps   largest |x - √d|   at d")
    for learningRate in [1e-5, 1e-4, 2e-4] {
        for steps in [100, 1_000, 10_000] {
            let tape = Tape<Double>()
            let x = tape.parameter(Tensor(repeating: 1, shape: [500]))
            let d = tape.parameter(targets)  // kept on the tape across resets; never updated
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
            print(String(format: "%-13g %9d   %16.3e   %7.2f", learningRate, steps, worst.error, worst.at))
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case nil:
    let root = squareRoot(of: 2)
    print(String(format: "gradient descent: √2 = %.15f\nFoundation.sqrt:  √2 = %.15f", root, 2.0.squareRoot()))
case "--help", "-h":
    print(usage)
case "--table":
    tableOfSettings()
case let text? where arguments.count == 1:
    guard let d = Double(text), d.isFinite, d >= 0 else {
        FileHandle.standardError.write("example-sqrt: '\(text)' is not a finite number ≥ 0\n\(usage)\n".data(using: .utf8)!)
        exit(2)
    }
    let root = squareRoot(of: d)
    print(String(format: "gradient descent: √%g = %.15f\nFoundation.sqrt:  √%g = %.15f", d, root, d, d.squareRoot()))
default:
    FileHandle.standardError.write("example-sqrt: unexpected arguments \(arguments)\n\(usage)\n".data(using: .utf8)!)
    exit(2)
}
