import Autodiff

/// The scalar step of example-sqrt: record (x·x - d)², backward, update x.
/// Prints `sqrt step: median X ns (min, max, n)` over `runs` runs of `steps` steps.
func sqrtBenchmark(runs: Int = 31, steps: Int = 100_000) {
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
    Failure.check(abs(sink / Double(runs) - d.squareRoot()) < 1e-9, "sqrt benchmark did not converge")
    print(sample.line("sqrt step", unit: "ns"))

    // The same step with the loss compiled once and replayed: value and gradient, then the update.
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
    Failure.check(abs(total / Double(runs) - d.squareRoot()) < 1e-9, "sqrt benchmark: the replayed steps did not converge")
    print(replayed.line("sqrt step replayed", unit: "ns"))
}
