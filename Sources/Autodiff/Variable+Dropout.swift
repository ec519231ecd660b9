/// Inverted dropout: each element of `x` kept with probability 1 - `probability` and scaled by
/// 1/(1 - probability), else 0, so the expected value is unchanged and inference needs no
/// rescaling. The mask comes from `generator` (one draw per element, in order), so a seed fixes
/// it; it is kept for the pullback. `probability` 0 returns `x` itself; 1 gives zeros.
/// ∂x = G ⊙ mask.
@inlinable
public func dropout<S>(
    _ x: Variable<S>, probability: Double, using generator: inout SeededGenerator,
    file: StaticString = #fileID, line: UInt = #line
) -> Variable<S> { x.at(file, line) {
    Failure.check((0...1).contains(probability), "dropout: probability \(probability) is outside [0, 1]")
    if probability == 0 { return x }
    let count = x.shape.reduce(1, *)
    let scale = probability < 1 ? S(1 / (1 - probability)) : 0
    // 53-bit uniforms against the threshold: one comparison per element.
    return x.tape.record("dropout", shape: x.shape, x, savedScalars: count, forward: { ctx in
        let (input, output, mask) = (ctx.a.value, ctx.output.value, ctx.savedScalars)
        for i in 0..<count {
            mask[i] = generator.nextUnitDouble() >= probability ? scale : 0
            output[i] = input[i] * mask[i]
        }
    }, pullback: { ctx in
        guard let gx = ctx.a.gradient else { return }
        let (g, mask) = (ctx.output.gradient.unsafelyUnwrapped, ctx.savedScalars)
        for i in 0..<count { gx[i] += g[i] * mask[i] }
    })
} }
