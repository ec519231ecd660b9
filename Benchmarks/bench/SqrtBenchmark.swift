import Autodiff

/// The scalar step of example-sqrt: record (x·x - d)², backward, update x; then the same loss
/// compiled once and replayed. Prints `sqrt step: median X ns (min, max, n)` and `sqrt step
/// replayed: …` over `runs` runs of `steps` steps (`mode` fresh or replayed: only that one).
func sqrtBenchmark(runs: Int = 31, steps: Int = 100_000, mode: String = "both") {
    if mode != "replayed" { freshSqrtSteps(runs: runs, steps: steps) }
    if mode != "fresh" { replayedSqrtSteps(runs: runs, steps: steps) }
}

func freshSqrtSteps(runs: Int, steps: Int) {
    let tape = Tape<Double>()
    let x = tape.parameter(Tensor(1.0))
    let d = 2.0
    var sample = Sample()
    var sink = 0.0
    for _ in 0..<runs {
        tape.assign(Tensor(1.0), to: x)
        let elapsed = seconds {
            for _ in 0..<steps {
                tape.reset()
                tape.backward((x * x - d).squared())
                tape.update(x) { value, gradient in value[0] -= 0.0625 * gradient[0] }
            }
        }
        sink += x.scalar
        sample.add(elapsed / Double(steps) * 1e9)
    }
    // (A few steps, as allocations.sh runs, do not converge.)
    Failure.check(steps < 1000 || abs(sink / Double(runs) - d.squareRoot()) < 1e-9, "sqrt benchmark did not converge")
    print(sample.line("sqrt step", unit: "ns"))
}

/// The same step with the loss compiled once and replayed: value and gradient, then the update.
func replayedSqrtSteps(runs: Int, steps: Int) {
    let d = 2.0
    let loss = CompiledFunction(at: Tensor(1.0)) { x in (x * x - d).squared() }
    var replayed = Sample()
    var point = 1.0, gradient = 0.0
    var total = 0.0
    for _ in 0..<runs {
        point = 1.0
        let elapsed = seconds {
            for _ in 0..<steps {
                withUnsafePointer(to: point) { x in
                    withUnsafeMutablePointer(to: &gradient) { g in
                        _ = loss.valueWithGradient(at: UnsafeBufferPointer(start: x, count: 1), into: UnsafeMutableBufferPointer(start: g, count: 1))
                    }
                }
                point -= 0.0625 * gradient
            }
        }
        total += point
        replayed.add(elapsed / Double(steps) * 1e9)
    }
    Failure.check(steps < 1000 || abs(total / Double(runs) - d.squareRoot()) < 1e-9,
                  "sqrt benchmark: the replayed steps did not converge")
    print(replayed.line("sqrt step replayed", unit: "ns"))
}
