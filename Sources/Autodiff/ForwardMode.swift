// Forward mode: the function runs once on dual numbers seeded with the direction, and the
// tangent of its value is the Jacobian-vector product. No backward pass, no pullbacks kept.
//
// The functions of this file and of second order take `f` on variables of `Dual<S>`. Write `f`
// generic over the scalar (`func f<T: TensorScalar>(_ x: Variable<T>) -> Variable<T>`) to use
// one definition with every API; data it captures enters with `converted()`.

extension Tensor {
    /// value + direction·ε element by element. - Precondition: equal shapes.
    @inlinable
    static func dual<Base>(_ value: Tensor<Base>, _ direction: Tensor<Base>, op: StaticString) -> Tensor where Scalar == Dual<Base> {
        Failure.check(value.shape == direction.shape,
                      "\(op): a direction of shape \(ShapeMath.describe(direction.shape)) for an input of shape \(ShapeMath.describe(value.shape))")
        return Tensor(shape: value.shape, scalars: zip(value.scalars, direction.scalars).map { Dual($0, tangent: $1) })
    }

    /// The real parts of a tensor of duals.
    @inlinable
    public func values<Base>() -> Tensor<Base> where Scalar == Dual<Base> {
        Tensor<Base>(shape: shape, scalars: scalars.map(\.value))
    }

    /// The ε parts of a tensor of duals.
    @inlinable
    public func tangents<Base>() -> Tensor<Base> where Scalar == Dual<Base> {
        Tensor<Base>(shape: shape, scalars: scalars.map(\.tangent))
    }
}

/// f(x) and the Jacobian-vector product J·v (the directional derivative along `direction`,
/// shaped like f(x)), from one forward evaluation on dual numbers.
@inlinable
public func jvp<S>(
    at x: Tensor<S>, direction: Tensor<S>, of f: (Variable<Dual<S>>) -> Variable<Dual<S>>
) -> (value: Tensor<S>, differential: Tensor<S>) {
    jvp(at: [x], directions: [direction]) { f($0[0]) }
}

/// f and J·v for a function of several inputs: the directional derivative when each input i
/// moves along `directions[i]`.
@inlinable
public func jvp<S>(
    at inputs: [Tensor<S>], directions: [Tensor<S>], of f: ([Variable<Dual<S>>]) -> Variable<Dual<S>>
) -> (value: Tensor<S>, differential: Tensor<S>) {
    Failure.check(inputs.count == directions.count, "jvp: \(inputs.count) inputs but \(directions.count) directions")
    let tape = Tape<Dual<S>>()
    let y = tape.withoutGradients { () -> Tensor<Dual<S>> in
        let variables = zip(inputs, directions).map { tape.variable(.dual($0, $1, op: "jvp")) }
        return f(variables).value
    }
    return (y.values(), y.tangents())
}

/// How ``jacobian(at:mode:of:)`` computes: one forward pass per input element, one backward
/// pass per output element, or whichever needs fewer passes.
public enum DifferentiationMode: Sendable {
    /// Forward when there are no more inputs than outputs (n ≤ m), else reverse.
    case automatic
    /// n Jacobian-vector products, one per input element (columns of J).
    case forward
    /// m vector-Jacobian products, one per output element (rows of J).
    case reverse
}

/// The Jacobian of f at `x`, shape [m, n] for m output and n input elements (both flattened
/// row-major), by forward or reverse mode (``DifferentiationMode``; by default whichever needs
/// fewer passes). For `f` on plain variables, ``jacobian(at:of:)`` (reverse) applies.
@inlinable
public func jacobian<S>(
    at x: Tensor<S>, mode: DifferentiationMode = .automatic, of f: (Variable<Dual<S>>) -> Variable<Dual<S>>
) -> Tensor<S> {
    let n = x.count
    let useForward: Bool
    switch mode {
    case .forward: useForward = true
    case .reverse: useForward = false
    case .automatic:
        // One forward pass tells m; a forward pass is cheaper than a backward one, so a tie goes forward.
        let tape = Tape<Dual<S>>()
        let m = tape.withoutGradients { f(tape.variable(x.converted())).value.count }
        useForward = n <= m
    }
    guard useForward else {
        // Reverse on the same tape type: the tangents stay zero, the real parts are the plain gradients.
        return jacobian(at: x.converted(to: Dual<S>.self), of: { f($0) }).values()
    }
    let columns = (0..<n).map { jvp(at: x, direction: .basis(x.shape, $0), of: f).differential }
    return .matrix(columns: columns, rows: columns.first?.count ?? 0)
}
