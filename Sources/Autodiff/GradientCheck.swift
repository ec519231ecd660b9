/// The outcome of comparing a tape's gradients with central finite differences.
public struct GradientCheckResult: Sendable, CustomStringConvertible {
    /// The largest error over all checked elements, |analytic - numeric| / max(1, |analytic|,
    /// |numeric|): relative for large gradients, absolute for small ones (so that gradients
    /// near zero do not turn rounding noise into a large ratio).
    public let maxError: Double
    /// Which input (index into the inputs) holds the worst element.
    public let input: Int
    /// The flat (row-major) index of the worst element within that input.
    public let element: Int
    /// The tape's gradient at the worst element.
    public let analytic: Double
    /// The finite-difference estimate at the worst element.
    public let numeric: Double
    /// The largest error of each input.
    public let maxErrorPerInput: [Double]

    /// One line naming the worst element, e.g. `max error 3.1e-10 at input 1 [4] (analytic 0.25, numeric 0.25)`.
    public var description: String {
        "max error \(maxError) at input \(input) [\(element)] (analytic \(analytic), numeric \(numeric))"
    }
}

/// Gradient checking: the tape's gradients of a function against central finite differences
/// (f(x+h) - f(x-h)) / 2h, in Double, one element at a time. Use it on your own functions as
/// the tutorials use `numerical_gradient`.
public enum GradientCheck {
    /// Checks `function` at `inputs`. The function receives the inputs as trainable variables
    /// on a fresh tape and returns a result of any shape; a result with more than one element is
    /// checked through a fixed random projection Σ r⊙f, so every output element counts.
    ///
    /// ```swift
    /// let result = GradientCheck.check(at: [Tensor(shape: [2, 3], scalars: [...])]) { _, x in
    ///     tanh(x[0]).sum()
    /// }
    /// assert(result.maxError < 1e-6)
    /// ```
    ///
    /// - Parameters:
    ///   - inputs: the point to check at, one tensor per input of `function`.
    ///   - step: the finite-difference step h.
    ///   - samplesPerInput: check only this many elements of each input, picked with a fixed seed
    ///     (for large weight matrices); nil checks every element.
    ///   - function: the computation, from a tape and the inputs as variables on it.
    public static func check(
        at inputs: [Tensor<Double>], step: Double = 1e-6, samplesPerInput: Int? = nil,
        _ function: (Tape<Double>, [Variable<Double>]) -> Variable<Double>
    ) -> GradientCheckResult {
        let tape = Tape<Double>()
        let variables = inputs.map { tape.variable($0) }
        let output = function(tape, variables)
        let outputShape = output.shape
        var generator = SeededGenerator(seed: 0x5EED)
        let projection = self.projection(for: outputShape, using: &generator)
        tape.backward(output, seed: projection)
        let analytic = variables.map { $0.gradient }

        func evaluate(_ point: [Tensor<Double>]) -> Double {
            tape.reset()
            return tape.withoutGradients {
                let values = function(tape, point.map { tape.constant($0) }).value
                guard let projection else { return values.scalars[0] }
                var total = 0.0
                for (v, r) in zip(values.scalars, projection.scalars) { total += v * r }
                return total
            }
        }

        var worst = (error: -1.0, input: 0, element: 0, analytic: 0.0, numeric: 0.0)
        var perInput = [Double](repeating: 0, count: inputs.count)
        var point = inputs
        for (inputIndex, input) in inputs.enumerated() {
            var elements = Array(0..<input.count)
            if let samples = samplesPerInput, samples < input.count {
                for i in 0..<samples { elements.swapAt(i, i + generator.nextIndex(below: input.count - i)) }
                elements = Array(elements[0..<samples])
            }
            for element in elements {
                let original = input.scalars[element]
                point[inputIndex].withUnsafeMutableBufferPointer { $0[element] = original + step }
                let plus = evaluate(point)
                point[inputIndex].withUnsafeMutableBufferPointer { $0[element] = original - step }
                let minus = evaluate(point)
                point[inputIndex].withUnsafeMutableBufferPointer { $0[element] = original }
                let numeric = (plus - minus) / (2 * step)
                let exact = analytic[inputIndex].scalars[element]
                let comparable = error(exact, numeric)
                perInput[inputIndex] = Swift.max(perInput[inputIndex], comparable)
                if comparable > worst.error {
                    worst = (comparable, inputIndex, element, exact, numeric)
                }
            }
        }
        return GradientCheckResult(
            maxError: Swift.max(worst.error, 0), input: worst.input, element: worst.element,
            analytic: worst.analytic, numeric: worst.numeric, maxErrorPerInput: perInput)
    }

    /// The fixed random weights r of the projection Σ r⊙f that reduces a result of several
    /// elements to one (nil for one element), drawn from `generator`.
    static func projection(for shape: [Int], using generator: inout SeededGenerator) -> Tensor<Double>? {
        ShapeMath.count(shape) == 1 ? nil : Tensor<Double>.randomUniform(shape, in: 0.5..<1.5, using: &generator)
    }

    /// |exact - estimate| / max(1, |exact|, |estimate|), infinite for NaN (see ``GradientCheckResult/maxError``).
    static func error(_ exact: Double, _ estimate: Double) -> Double {
        let error = Swift.abs(exact - estimate) / Swift.max(1, Swift.abs(exact), Swift.abs(estimate))
        return error.isNaN ? .infinity : error
    }
}
