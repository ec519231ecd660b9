// Derivatives of a function written with variables, without managing a tape: each call
// records `f` on a tape of its own (no shared state, so calls on several threads at once are
// safe and give the results of one at a time) and runs the backward passes it needs. A
// function that does not depend on its input has zero derivatives, in every mode.

/// The gradient of a scalar function at `x`, shaped like `x`: ∇f(x).
@inlinable
public func gradient<S>(at x: Tensor<S>, of f: (Variable<S>) -> Variable<S>) -> Tensor<S> {
    valueWithGradient(at: x, of: f).gradient
}

/// f(x) and ∇f(x) from one forward and one backward pass.
@inlinable
public func valueWithGradient<S>(at x: Tensor<S>, of f: (Variable<S>) -> Variable<S>) -> (value: S, gradient: Tensor<S>) {
    let tape = Tape<S>()
    let input = tape.variable(x)
    let y = f(input)
    Failure.check(tape.shape(of: y).reduce(1, *) == 1,
                  "gradient: the function's value has shape \(ShapeMath.describe(tape.shape(of: y))), not a single element; use jacobian or vjp")
    let dependent = tape.backwardIfDependent(y)
    return (y.scalar, dependent ? input.gradient : .zeros(x.shape))
}

/// The gradients of a scalar function of several inputs, one per input, each shaped like it.
@inlinable
public func gradient<S>(at inputs: [Tensor<S>], of f: ([Variable<S>]) -> Variable<S>) -> [Tensor<S>] {
    valueWithGradient(at: inputs, of: f).gradients
}

/// f and its gradients for several inputs.
@inlinable
public func valueWithGradient<S>(at inputs: [Tensor<S>], of f: ([Variable<S>]) -> Variable<S>) -> (value: S, gradients: [Tensor<S>]) {
    let tape = Tape<S>()
    let variables = inputs.map { tape.variable($0) }
    let y = f(variables)
    Failure.check(tape.shape(of: y).reduce(1, *) == 1,
                  "gradient: the function's value has shape \(ShapeMath.describe(tape.shape(of: y))), not a single element; use jacobian or vjp")
    let dependent = tape.backwardIfDependent(y)
    return (y.scalar, zip(variables, inputs).map { dependent ? $0.gradient : .zeros($1.shape) })
}

/// f(x) and its pullback v ↦ vᵀ·J (a vector-Jacobian product, shaped like `x`) for any `v`
/// shaped like f(x). The pullback keeps the recording; call it from one thread at a time.
@inlinable
public func vjp<S>(at x: Tensor<S>, of f: (Variable<S>) -> Variable<S>) -> (value: Tensor<S>, pullback: (Tensor<S>) -> Tensor<S>) {
    let tape = Tape<S>()
    let input = tape.variable(x)
    let y = f(input)
    let value = y.value
    return (value, { seed in
        Failure.check(seed.shape == value.shape,
                      "vjp: a cotangent of shape \(ShapeMath.describe(seed.shape)) for a value of shape \(ShapeMath.describe(value.shape))")
        return tape.backwardIfDependent(y, seed: seed) ? input.gradient : .zeros(x.shape)
    })
}

/// The Jacobian of f at `x`, shape [m, n] for m output and n input elements (both flattened
/// row-major): row i is the gradient of output element i, from one backward pass each.
@inlinable
public func jacobian<S>(at x: Tensor<S>, of f: (Variable<S>) -> Variable<S>) -> Tensor<S> {
    let (value, pullback) = vjp(at: x, of: f)
    let (m, n) = (value.count, x.count)
    var rows: [S] = []
    rows.reserveCapacity(m * n)
    for i in 0..<m { rows.append(contentsOf: pullback(.basis(value.shape, i)).scalars) }
    return Tensor(shape: [m, n], scalars: rows)
}

extension Tape {
    /// Runs ``backward(_:seed:)`` when `y` depends on a variable and says whether it did: the
    /// functional API gives a function that ignores its input zero gradients (as JAX and
    /// torch.func do) instead of stopping as `backward` does.
    @inlinable
    func backwardIfDependent(_ y: Variable<Scalar>, seed: Tensor<Scalar>? = nil) -> Bool {
        guard y.requiresGradient else { return false }
        backward(y, seed: seed)
        return true
    }
}

extension Tensor {
    /// The unit tensor eᵢ of `shape`: 1 at flat index `i`, 0 elsewhere (a seed or a direction).
    @inlinable
    static func basis(_ shape: [Int], _ i: Int) -> Tensor {
        var e = Tensor.zeros(shape)
        e.withUnsafeMutableBufferPointer { $0[i] = 1 }
        return e
    }

    /// The [m, n] matrix whose column j is `columns[j]` (each of m elements, flattened).
    @inlinable
    static func matrix(columns: [Tensor], rows m: Int) -> Tensor {
        let n = columns.count
        var scalars = [Scalar](repeating: 0, count: m * n)
        for (j, column) in columns.enumerated() {
            for (i, d) in column.scalars.enumerated() { scalars[i * n + j] = d }
        }
        return Tensor(shape: [m, n], scalars: scalars)
    }
}
