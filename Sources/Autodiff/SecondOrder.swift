// Second derivatives by forward over reverse: the tape runs on dual numbers x + vε, and the
// backward pass over it yields ∇f(x) + (H·v)ε, since every op's value and pullback are generic
// arithmetic on the scalar. Every op (rules, fused kernels, custom ops written generically)
// gets its second derivative with no rule of its own, at the cost of one dual pass.

/// H·v, the Hessian of a scalar function at `x` times `direction` (shaped like `x`), from one
/// forward and one backward pass on dual numbers; no finite differences.
@inlinable
public func hessianVectorProduct<S>(
    at x: Tensor<S>, direction: Tensor<S>, of f: (Variable<Dual<S>>) -> Variable<Dual<S>>
) -> Tensor<S> {
    valueGradientAndHessianVectorProduct(at: [x], directions: [direction]) { f($0[0]) }.hessianVectorProducts[0]
}

/// The Hessian-vector products of a scalar function of several inputs, one per input: the
/// tangents of its gradients when each input i moves along `directions[i]`.
@inlinable
public func hessianVectorProduct<S>(
    at inputs: [Tensor<S>], directions: [Tensor<S>], of f: ([Variable<Dual<S>>]) -> Variable<Dual<S>>
) -> [Tensor<S>] {
    valueGradientAndHessianVectorProduct(at: inputs, directions: directions, of: f).hessianVectorProducts
}

/// f, ∇f and H·v together, for several inputs, from the same dual pass (Newton-CG needs the
/// gradient beside its first product).
@inlinable
public func valueGradientAndHessianVectorProduct<S>(
    at inputs: [Tensor<S>], directions: [Tensor<S>], of f: ([Variable<Dual<S>>]) -> Variable<Dual<S>>
) -> (value: S, gradients: [Tensor<S>], hessianVectorProducts: [Tensor<S>]) {
    Failure.check(inputs.count == directions.count,
                  "hessianVectorProduct: \(inputs.count) inputs but \(directions.count) directions")
    let tape = Tape<Dual<S>>()
    let variables = zip(inputs, directions).map { tape.variable(.dual($0, $1, op: "hessianVectorProduct")) }
    let y = f(variables)
    Failure.check(tape.shape(of: y).reduce(1, *) == 1,
                  "hessianVectorProduct: the function's value has shape \(ShapeMath.describe(tape.shape(of: y))), not a single element")
    let dependent = tape.backwardIfDependent(y)
    let gradients = zip(variables, inputs).map { dependent ? $0.gradient : Tensor<Dual<S>>.zeros($1.shape) }
    return (y.scalar.value, gradients.map { $0.values() }, gradients.map { $0.tangents() })
}

/// The Hessian of a scalar function at `x`, shape [n, n] for n elements of `x` (flattened
/// row-major): column j is H·eⱼ, one dual pass each. `f` is recorded once and replayed per
/// column (``CompiledFunction``): only the tangents change between columns.
@inlinable
public func hessian<S>(at x: Tensor<S>, of f: (Variable<Dual<S>>) -> Variable<Dual<S>>) -> Tensor<S> {
    let n = x.count
    guard n > 0 else { return .zeros([0, 0]) }
    let columns = withoutActuallyEscaping(f) { f in
        let compiled = CompiledFunction(at: Tensor.dual(x, .basis(x.shape, 0), op: "hessian")) { f($0) }
        return (0..<n).map { j in
            let input = Tensor.dual(x, .basis(x.shape, j), op: "hessian")
            return compiled.valueWithGradient(at: input).gradient.tangents()
        }
    }
    return .matrix(columns: columns, rows: n)
}
