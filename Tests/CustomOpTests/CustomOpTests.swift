// Ops written with the public API only (no @testable): what a user of the engine can do.
import Autodiff
import Testing

/// max(a, b) written as a user would: broadcasting through `Broadcasting`, the gradient to the
/// larger operand summed back to each operand's shape by `accumulateBroadcast`.
func userMaximum(_ a: Variable<Double>, _ b: Variable<Double>) -> Variable<Double> {
    let shape = Broadcasting.shape(a.shape, b.shape, op: "userMaximum")
    let (aShape, bShape) = (a.shape, b.shape)
    return a.tape.record("userMaximum", shape: shape, a, b, forward: { ctx in
        let (x, z, y) = (ctx.a.value, ctx.b.value, ctx.output.value)
        Broadcasting.forEachElement(shape, aShape, bShape) { o, i, j in y[o] = Swift.max(x[i], z[j]) }
    }, pullback: { ctx in
        let n = ctx.output.count
        let g = ctx.output.gradient!
        let (x, z) = (ctx.a.value, ctx.b.value)
        let (toA, toB) = (ctx.scratch(n), ctx.scratch(n))
        Broadcasting.forEachElement(shape, aShape, bShape) { o, i, j in
            (toA[o], toB[o]) = x[i] > z[j] ? (g[o], 0) : (0, g[o])
        }
        ctx.accumulateBroadcast(toA, into: ctx.a)
        ctx.accumulateBroadcast(toB, into: ctx.b)
    })
}

/// Vectors joined end to end, any number of them.
func userConcatenate(_ parts: [Variable<Double>]) -> Variable<Double> {
    let lengths = parts.map { $0.shape[0] }
    return parts[0].tape.record("userConcatenate", shape: [lengths.reduce(0, +)], inputs: parts, forward: { ctx in
        var start = 0
        for i in 0..<ctx.inputCount {
            (ctx.output.value + start).update(from: ctx.input(i).value, count: lengths[i])
            start += lengths[i]
        }
    }, pullback: { ctx in
        var start = 0
        for i in 0..<ctx.inputCount {
            if let g = ctx.input(i).gradient {
                for k in 0..<lengths[i] { g[k] += ctx.output.gradient![start + k] }
            }
            start += lengths[i]
        }
    })
}

/// A user's elementwise rules: x³ (unary) and a·b² (binary).
enum Cube: UnaryRule {
    static func value<S: TensorScalar>(_ x: S, _ c: S) -> S { x * x * x }
    static func derivative<S: TensorScalar>(_ x: S, _ y: S, _ c: S) -> S { 3 * x * x }
}
enum TimesSquare: BinaryRule {
    static func value<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b * b }
    static func partials<S: TensorScalar>(_ a: S, _ b: S, _ y: S) -> (S, S) { (b * b, 2 * a * b) }
}

func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, in: -2..<2, using: &generator)
}

@Suite("Custom ops with the public API")
struct CustomOpTests {
    @Test("a maximum-like op broadcasts both ways and agrees with the built-in maximum")
    func maximumLike() {
        let (m, row, column) = (random([4, 5], seed: 1), random([5], seed: 2), random([4, 1], seed: 3))
        for (a, b) in [(m, row), (column, m), (column, row)] {
            let check = GradientCheck.check(at: [a, b]) { _, v in userMaximum(v[0], v[1]) }
            #expect(check.maxError < 1e-6, "\(check)")
            let tape = Tape<Double>()
            let (x, y) = (tape.parameter(a), tape.parameter(b))
            let (mine, builtIn) = (userMaximum(x, y), maximum(x, y))
            #expect(mine.value == builtIn.value)
            tape.backward((mine * 2).sum())
            let (gx, gy) = (x.gradient, y.gradient)
            tape.reset()
            tape.backward((maximum(x, y) * 2).sum())
            #expect(gx == x.gradient && gy == y.gradient, "gradients differ from the built-in maximum")
        }
    }

    @Test("a concat-like op of ten inputs equals concatenate, gradients checked")
    func concatenateLike() {
        let parts = (0..<10).map { random([$0 % 3 + 1], seed: 10 + UInt64($0)) }
        let check = GradientCheck.check(at: parts) { _, v in userConcatenate(v) * userConcatenate(v) }
        #expect(check.maxError < 1e-6, "\(check)")
        let tape = Tape<Double>()
        let variables = parts.map { tape.constant($0) }
        #expect(userConcatenate(variables).value == concatenate(variables).value)
    }

    @Test("user rules applied elementwise, with broadcasting, against finite differences")
    func rules() {
        let (m, row) = (random([3, 4], seed: 20), random([4], seed: 21))
        let check = GradientCheck.check(at: [m, row]) { _, v in Variable.applying(TimesSquare.self, v[0].applying(Cube.self), v[1]) }
        #expect(check.maxError < 1e-6, "\(check)")
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(2.0))
        let y = x.applying(Cube.self)
        tape.backward(y)
        #expect(y.scalar == 8 && x.gradient.scalar == 12)
    }
}
