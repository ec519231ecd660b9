/// A computation written once for every scalar type, so that a checker can run it in Float and
/// in Double (see ``GradientCheck/checkFloatInDouble(at:tolerance:_:)``).
public protocol ScalarGenericComputation {
    /// The computation's result from `inputs`, variables on `tape`.
    func callAsFunction<T: TensorScalar>(_ tape: Tape<T>, _ inputs: [Variable<T>]) -> Variable<T>
}

/// Float gradients against the same computation's in Double.
public struct PrecisionCheckResult: Sendable, CustomStringConvertible {
    /// Per input: ‖g_Float − g_Double‖∞ / ‖g_Double‖∞ (normwise, so tiny elements raise no alarm).
    public let maxErrorPerInput: [Double]
    /// The largest of them.
    public var maxError: Double { maxErrorPerInput.max() ?? 0 }
    /// The bound the check was made against.
    public let tolerance: Double
    /// Whether every input is within the tolerance.
    public var passed: Bool { maxError <= tolerance }

    /// One line: the largest error, the tolerance, and the verdict.
    public var description: String {
        "Float against Double: largest normwise error \(maxError) (tolerance \(tolerance)): \(passed ? "agree" : "DISAGREE")"
    }
}

extension GradientCheck {
    /// Checks a Float computation's gradients by running it again in Double from the same
    /// values and comparing normwise, per input. Finite differences in Float are too coarse to
    /// check Float code (steps small enough for truncation drown in rounding, the false alarms
    /// of float32 gradchecks); this compares against the same derivatives in Double instead,
    /// and ``check(at:step:samplesPerInput:_:)`` on the Double run checks those.
    public static func checkFloatInDouble(
        at inputs: [Tensor<Float>], tolerance: Double = 1e-3, _ computation: some ScalarGenericComputation
    ) -> PrecisionCheckResult {
        func gradients<T: TensorScalar>(_: T.Type) -> [[Double]] {
            let tape = Tape<T>()
            let variables = inputs.map { tape.variable($0.converted(to: T.self)) }
            tape.backward(computation(tape, variables))
            return variables.map { $0.gradient.scalars.map { Double($0) } }
        }
        let (single, double) = (gradients(Float.self), gradients(Double.self))
        let errors = zip(single, double).map { f, d -> Double in
            let scale = d.map { Swift.abs($0) }.max() ?? 0
            let difference = zip(f, d).map { Swift.abs($0 - $1) }.max() ?? 0
            let error = scale > 0 ? difference / scale : difference
            return error.isNaN ? .infinity : error
        }
        return PrecisionCheckResult(maxErrorPerInput: errors, tolerance: tolerance)
    }
}
