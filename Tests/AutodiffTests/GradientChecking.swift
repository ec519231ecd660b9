import Autodiff
import Testing

/// Random Double inputs for gradient checks, from a fixed seed.
func randomTensor(_ shape: [Int], seed: UInt64, in range: Range<Double> = -2..<2) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, in: range, using: &generator)
}

/// Random values whose magnitude is at least `gap`, so kinks (relu, abs) are far from every
/// finite-difference step.
func awayFromZero(_ shape: [Int], seed: UInt64, gap: Double = 0.1) -> Tensor<Double> {
    randomTensor(shape, seed: seed).map { $0 >= 0 ? $0 + gap : $0 - gap }
}

/// The shared finite-difference check: every op's test calls this once.
func expectGradients(
    at inputs: [Tensor<Double>], tolerance: Double = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: (Tape<Double>, [Variable<Double>]) -> Variable<Double>
) {
    let result = GradientCheck.check(at: inputs, function)
    #expect(result.maxError < tolerance, "expected tape gradients within \(tolerance) of finite differences, got \(result)",
            sourceLocation: sourceLocation)
}

@Suite("Gradient checker")
struct GradientCheckerTests {
    @Test("reports the worst element of a deliberately wrong gradient")
    func detectsWrongGradient() {
        // An op whose pullback is off by a factor 2 at one element must be caught, or the checker proves nothing.
        let result = GradientCheck.check(at: [Tensor([1.0, 2.0, 3.0])]) { tape, x in
            tape.record("wrongSquare", shape: [3], x[0], forward: { ctx in
                for i in 0..<3 { ctx.output.value[i] = ctx.a.value[i] * ctx.a.value[i] }
            }, pullback: { ctx in
                for i in 0..<3 { ctx.a.gradient![i] += ctx.output.gradient![i] * (i == 2 ? 4 : 2) * ctx.a.value[i] }
            }).sum()
        }
        #expect(result.maxError > 0.3, "a doubled gradient should give a large error, got \(result)")
        #expect(result.input == 0 && result.element == 2, "worst element should be x[2] (the wrong one), got \(result)")
        #expect(abs(result.numeric - 6) < 1e-5, "numeric d(x²)/dx at 3 should be 6, got \(result.numeric)")
    }

    @Test("a correct gradient passes at every element")
    func acceptsCorrectGradient() {
        let result = GradientCheck.check(at: [randomTensor([3, 4], seed: 1)]) { _, x in (x[0] * x[0]).sum() }
        #expect(result.maxError < 1e-8)
        #expect(result.maxErrorPerInput.count == 1)
    }
}
