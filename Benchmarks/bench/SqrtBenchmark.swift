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
}
