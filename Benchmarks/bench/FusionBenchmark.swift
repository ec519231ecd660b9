import Autodiff
import ExampleSupport

/// A chain of elementwise ops over one large tensor, summed: sum(exp(sin(x)·2 + x²) - x) for
/// x of `count` elements, its value and gradient on a reused tape, compiled without fusion and
/// compiled with fusion (each op's intermediate neither written nor read back).
func fusionBenchmark(_ options: CommandLineOptions) {
    let counts: [Int] = options.list("sizes", "4096,1048576", of: "element counts") { $0 >= 1 && $0 <= 1 << 26 }
    let runs = options.int("runs", 15, in: 1...10_000)
    for count in counts {
        chain(Double.self, "Double", count: count, runs: runs)
        chain(Float.self, "Float", count: count, runs: runs)
    }
}

func chain<S: TensorScalar>(_: S.Type, _ name: String, count: Int, runs: Int) {
    var generator = SeededGenerator(seed: 3)
    let scalars = (0..<count).map { _ in S(Double(generator.next() >> 11) / Double(1 << 53) * 2 - 1) }
    let point = Tensor(shape: [count], scalars: scalars)
    func f(_ x: Variable<S>) -> Variable<S> { (exp(sin(x) * 2 + x.squared()) - x).sum() }
    let tape = Tape<S>()
    let x = tape.parameter(point)
    var gradient = [S](repeating: 0, count: count)
    func onTape() -> S {
        tape.reset()
        let y = f(x)
        tape.backward(y)
        return y.scalar
    }
    let plain = CompiledFunction(at: point, fusing: false, f)
    let fused = CompiledFunction(at: point, fusing: true, f)
    func compiled(_ function: CompiledFunction<S>) -> S {
        scalars.withUnsafeBufferPointer { p in gradient.withUnsafeMutableBufferPointer { function.valueWithGradient(at: p, into: $0) } }
    }
    let reference = onTape()
    for function in [plain, fused] {
        let value = compiled(function)
        if Swift.abs(Double(value - reference)) > 1e-4 * Swift.max(1, Double(Swift.abs(reference))) {
            fail("fusion \(name) n=\(count): compiled value \(value), tape \(reference)")
        }
    }
    let once = seconds { _ = onTape() }
    let repeats = Swift.max(1, Int(0.02 / Swift.max(once, 1e-7)))
    var samples = [Sample(), Sample(), Sample()], ratios = Sample()
    var sink: S = 0
    for _ in 0..<runs {
        let t = seconds { for _ in 0..<repeats { sink += onTape() } } / Double(repeats) * 1e6
        let p = seconds { for _ in 0..<repeats { sink += compiled(plain) } } / Double(repeats) * 1e6
        let q = seconds { for _ in 0..<repeats { sink += compiled(fused) } } / Double(repeats) * 1e6
        samples[0].add(t)
        samples[1].add(p)
        samples[2].add(q)
        ratios.add(q / t)
    }
    if sink.isNaN { fail("fusion: NaN") }
    print(samples[0].line("fusion n=\(count) \(name) tape", unit: "µs"))
    print(samples[1].line("fusion n=\(count) \(name) compiled", unit: "µs"))
    print(samples[2].line("fusion n=\(count) \(name) fused", unit: "µs"))
    print(ratios.line("fusion n=\(count) \(name) fused/tape", unit: "×", digits: 2))
}
