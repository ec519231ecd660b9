/// Second-order and forward-mode checks: the engine's Hessian-vector products against central
/// differences of its own gradient, and its Jacobian-vector products against central
/// differences of the value, in Double. The function is written once, on duals; its real parts
/// are the plain computation.
extension GradientCheck {
    /// Checks H·v (the tangent of the gradient on a tape of duals) against
    /// (∇f(x + hv) - ∇f(x - hv)) / 2h for every element of every input. A result with more than
    /// one element is reduced through a fixed random projection Σ r⊙f, as ``check(at:step:samplesPerInput:_:)`` does.
    public static func checkHessianVectorProducts(
        at inputs: [Tensor<Double>], directions: [Tensor<Double>], step: Double = 1e-5,
        _ function: (Tape<Dual<Double>>, [Variable<Dual<Double>>]) -> Variable<Dual<Double>>
    ) -> GradientCheckResult {
        func run(_ point: [Tensor<Double>], _ direction: [Tensor<Double>]) -> (gradients: [Tensor<Double>], products: [Tensor<Double>]) {
            let tape = Tape<Dual<Double>>()
            let variables = zip(point, direction).map { tape.variable(.dual($0, $1, op: "checkHessianVectorProducts")) }
            let output = projected(function(tape, variables))
            tape.backward(output)
            let gradients = variables.map(\.gradient)
            return (gradients.map { $0.values() }, gradients.map { $0.tangents() })
        }
        let analytic = run(inputs, directions).products
        let zeros = inputs.map { Tensor<Double>.zeros($0.shape) }
        let plus = run(zip(inputs, directions).map { x, v in x + v * step }, zeros).gradients
        let minus = run(zip(inputs, directions).map { x, v in x - v * step }, zeros).gradients
        let numeric = zip(plus, minus).map { p, m in (p - m) / (2 * step) }
        return compare(analytic, numeric)
    }

    /// Checks J·v (the tangent of the value on duals) against (f(x + hv) - f(x - hv)) / 2h for
    /// every output element; the result's `element` is the output element.
    public static func checkJacobianVectorProducts(
        at inputs: [Tensor<Double>], directions: [Tensor<Double>], step: Double = 1e-6,
        _ function: (Tape<Dual<Double>>, [Variable<Dual<Double>>]) -> Variable<Dual<Double>>
    ) -> GradientCheckResult {
        func run(_ point: [Tensor<Double>], _ direction: [Tensor<Double>]) -> Tensor<Dual<Double>> {
            let tape = Tape<Dual<Double>>()
            return tape.withoutGradients {
                function(tape, zip(point, direction).map { tape.variable(.dual($0, $1, op: "checkJacobianVectorProducts")) }).value
            }
        }
        let analytic: Tensor<Double> = run(inputs, directions).tangents()
        let zeros = inputs.map { Tensor<Double>.zeros($0.shape) }
        let plus: Tensor<Double> = run(zip(inputs, directions).map { x, v in x + v * step }, zeros).values()
        let minus: Tensor<Double> = run(zip(inputs, directions).map { x, v in x - v * step }, zeros).values()
        return compare([analytic], [(plus - minus) / (2 * step)])
    }

    /// Σ r⊙y with the checker's fixed projection, or y itself when it has one element.
    static func projected(_ y: Variable<Dual<Double>>) -> Variable<Dual<Double>> {
        var generator = SeededGenerator(seed: 0x5EED)
        guard let r = projection(for: y.shape, using: &generator) else { return y }
        return (y * y.tape.constant(r.converted())).sum()
    }

    /// The worst element of `analytic` against `numeric`, measured as ``GradientCheckResult/maxError`` is.
    static func compare(_ analytic: [Tensor<Double>], _ numeric: [Tensor<Double>]) -> GradientCheckResult {
        var worst = (error: -1.0, input: 0, element: 0, analytic: 0.0, numeric: 0.0)
        var perInput = [Double](repeating: 0, count: analytic.count)
        for (i, (a, n)) in zip(analytic, numeric).enumerated() {
            for (e, (exact, estimate)) in zip(a.scalars, n.scalars).enumerated() {
                let comparable = error(exact, estimate)
                perInput[i] = Swift.max(perInput[i], comparable)
                if comparable > worst.error { worst = (comparable, i, e, exact, estimate) }
            }
        }
        return GradientCheckResult(
            maxError: Swift.max(worst.error, 0), input: worst.input, element: worst.element,
            analytic: worst.analytic, numeric: worst.numeric, maxErrorPerInput: perInput)
    }
}
