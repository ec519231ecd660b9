import Autodiff
import Foundation
import Testing

@Suite("Elementwise ops")
struct ElementwiseOpTests {
    static let matrix = randomTensor([7, 13], seed: 11)
    static let other = awayFromZero([7, 13], seed: 12)
    static let row = awayFromZero([1, 13], seed: 13)
    static let vector = awayFromZero([13], seed: 14)
    static let column = awayFromZero([7, 1], seed: 15)

    @Test("+ - * / on equal shapes and odd shapes",
          arguments: [[1, 1], [7, 13], [3]] as [[Int]])
    func arithmeticSameShape(shape: [Int]) {
        let a = randomTensor(shape, seed: 1)
        let b = awayFromZero(shape, seed: 2)
        expectGradients(at: [a, b]) { _, v in (v[0] + v[1]).sum() }
        expectGradients(at: [a, b]) { _, v in v[0] - v[1] }
        expectGradients(at: [a, b]) { _, v in v[0] * v[1] }
        expectGradients(at: [a, b]) { _, v in v[0] / v[1] }
    }

    @Test("broadcasting in both directions: row, vector, column, scalar against a matrix",
          arguments: [row, vector, column, Tensor(2.5)])
    func arithmeticBroadcast(small: Tensor<Double>) {
        let m = Self.other
        expectGradients(at: [m, small]) { _, v in v[0] + v[1] }
        expectGradients(at: [small, m]) { _, v in v[0] - v[1] }
        expectGradients(at: [m, small]) { _, v in v[0] * v[1] }
        expectGradients(at: [small, m]) { _, v in v[0] * v[1] }
        expectGradients(at: [m, small]) { _, v in v[0] / v[1] }
        expectGradients(at: [small, m]) { _, v in v[0] / v[1] }
    }

    @Test("[7, 1] against [1, 13] broadcasts both operands")
    func mutualBroadcast() {
        expectGradients(at: [Self.column, Self.row]) { _, v in v[0] * v[1] - v[1] / v[0] }
    }

    @Test("scalars on either side")
    func scalarOperands() {
        let x = awayFromZero([7, 13], seed: 3)
        expectGradients(at: [x]) { _, v in v[0] + 3 }
        expectGradients(at: [x]) { _, v in 3 + v[0] }
        expectGradients(at: [x]) { _, v in v[0] - 3 }
        expectGradients(at: [x]) { _, v in 3 - v[0] }
        expectGradients(at: [x]) { _, v in v[0] * 1.5 }
        expectGradients(at: [x]) { _, v in 1.5 * v[0] }
        expectGradients(at: [x]) { _, v in v[0] / 1.5 }
        expectGradients(at: [x]) { _, v in 1.5 / v[0] }
        expectGradients(at: [x]) { _, v in -v[0] }
    }

    @Test("unary functions")
    func unaryFunctions() {
        let x = Self.matrix
        let positive = randomTensor([7, 13], seed: 4, in: 0.2..<3)
        let kinked = awayFromZero([7, 13], seed: 5)
        expectGradients(at: [x]) { _, v in exp(v[0]) }
        expectGradients(at: [positive]) { _, v in log(v[0]) }
        expectGradients(at: [positive]) { _, v in sqrt(v[0]) }
        expectGradients(at: [positive]) { _, v in pow(v[0], 2.5) }
        expectGradients(at: [x]) { _, v in pow(v[0], 3) }
        expectGradients(at: [kinked]) { _, v in abs(v[0]) }
        expectGradients(at: [x]) { _, v in v[0].squared() }
        expectGradients(at: [x]) { _, v in tanh(v[0]) }
        expectGradients(at: [x * 5]) { _, v in sigmoid(v[0]) }
        expectGradients(at: [kinked]) { _, v in relu(v[0]) }
        expectGradients(at: [kinked]) { _, v in leakyRelu(v[0], alpha: 0.1) }
    }

    /// Every elementwise op, on two rank-0 operands (a > 0, b < 0).
    static let scalarOps: [(String, @Sendable ([Variable<Double>]) -> Variable<Double>)] = [
        ("a + b", { $0[0] + $0[1] }), ("a - b", { $0[0] - $0[1] }), ("a * b", { $0[0] * $0[1] }),
        ("a / b", { $0[0] / $0[1] }), ("a * a", { $0[0] * $0[0] }), ("a + 3", { $0[0] + 3 }),
        ("3 - a", { 3 - $0[0] }), ("a * 1.5", { $0[0] * 1.5 }), ("1.5 / b", { 1.5 / $0[1] }), ("-b", { -$0[1] }),
        ("b²", { $0[1].squared() }), ("|b|", { abs($0[1]) }), ("exp b", { exp($0[1]) }), ("log a", { log($0[0]) }),
        ("√a", { sqrt($0[0]) }), ("a^2.5", { pow($0[0], 2.5) }), ("tanh b", { tanh($0[1]) }),
        ("sigmoid b", { sigmoid($0[1]) }), ("relu a", { relu($0[0]) }), ("relu b", { relu($0[1]) }),
        ("leakyRelu b", { leakyRelu($0[1], alpha: 0.1) }), ("(a·a - 2)²", { ($0[0] * $0[0] - 2).squared() }),
        // v feeds a tensor op and then a scalar op, whose pullbacks both add to v's gradient:
        // the scalar one runs first in the backward pass, the tensor one writes v's slot after.
        ("v = 3a: sum(v as [1]) + 2v", { let v = $0[0] * 3; let s = v.reshaped(to: [1]).sum(); return v * 2 + s }),
        ("(a·b + a)/(b·b + 1) - eᵃ·b + a", { ($0[0] * $0[1] + $0[0]) / ($0[1] * $0[1] + 1) - exp($0[0]) * $0[1] + $0[0] }),
    ]

    @Test("rank-0 values (the lean scalar path) against finite differences and the general path",
          arguments: scalarOps.map(\.0))
    func scalarPath(_ name: String) {
        let function = Self.scalarOps.first { $0.0 == name }!.1
        let (a, b) = (1.3, -0.7)
        expectGradients(at: [Tensor(a), Tensor(b)]) { _, v in function(v) }
        // The same op on one-element vectors runs the general elementwise code.
        func valueAndGradients(_ shape: [Int]) -> [Double] {
            let tape = Tape<Double>()
            let x = tape.parameter(Tensor(shape: shape, scalars: [a]))
            let y = tape.parameter(Tensor(shape: shape, scalars: [b]))
            let result = function([x, y])
            tape.backward(result)
            return [result.value.scalars[0], x.gradient.scalars[0], y.gradient.scalars[0]]
        }
        let scalar = valueAndGradients([])
        let vector = valueAndGradients([1])
        #expect(scalar == vector, "\(name): expected (value, ∂a, ∂b) = \(vector) as on shape [1], got \(scalar) on rank 0")
    }

    @Test("a variable used more than once receives the sum of its gradients")
    func reuse() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(3.0))
        // y = x·x + x  →  dy/dx = 2x + 1 = 7 at x = 3.
        let y = x * x + x
        tape.backward(y)
        #expect(x.gradient.scalar == 7, "expected 2·3 + 1 = 7, got \(x.gradient.scalar)")
        expectGradients(at: [Self.matrix]) { _, v in (v[0] * sigmoid(v[0]) + v[0].squared()) / (v[0].abs() + 1) }
    }

    @Test("worked by hand: sigmoid'(0) = 1/4, tanh'(0) = 1, relu'(-1) = 0, leakyRelu'(-1) = α")
    func handWorked() {
        let tape = Tape<Double>()
        let zero = tape.parameter(Tensor(0.0))
        let minusOne = tape.parameter(Tensor(-1.0))
        tape.backward(sigmoid(zero) + tanh(zero) + relu(minusOne) + leakyRelu(minusOne, alpha: 0.2))
        #expect(zero.gradient.scalar == 1.25, "expected 0.25 + 1, got \(zero.gradient.scalar)")
        #expect(abs(minusOne.gradient.scalar - 0.2) < 1e-15, "expected α = 0.2, got \(minusOne.gradient.scalar)")
    }

    /// The largest distance, in ulp of the exact value, between `results` and `exact` computed in
    /// Double and rounded to Float, and the input where it occurs.
    func worstUlps(_ inputs: [Float], _ results: [Float], exact: (Double) -> Double) -> (ulps: Float, x: Float) {
        var worst: (ulps: Float, x: Float) = (0, 0)
        for (x, got) in zip(inputs, results) {
            let want = Float(exact(Double(x)))
            let ulps = want == got ? 0 : abs(got - want) / max(want.ulp, Float.leastNonzeroMagnitude)
            if ulps > worst.ulps { worst = (ulps, x) }
        }
        return worst
    }

    /// `f` on nine Float values with a NaN last (the scalar tail of an 8-wide kernel) and on nine
    /// with a NaN first (a vector lane); the other values are 1.
    func withNaN(_ f: (Variable<Float>) -> Variable<Float>) -> (nanLast: [Float], nanFirst: [Float]) {
        let tape = Tape<Float>()
        let ones = [Float](repeating: 1, count: 8)
        return (f(tape.constant(Tensor(shape: [9], scalars: ones + [.nan]))).value.scalars,
                f(tape.constant(Tensor(shape: [9], scalars: [.nan] + ones))).value.scalars)
    }

    @Test("Float sigmoid, eight at a time, stays within 4 ulp of the Double formula; edges are exact")
    func vectorSigmoid() {
        // 4001 points over [-120, 120]: beyond -87 the results are subnormal (the scalar path).
        let inputs = (0...4000).map { Float(-120 + 0.06 * Double($0)) } + [0, -0.0, .infinity, -.infinity, 1e4, -1e4]
        let tape = Tape<Float>()
        let y = sigmoid(tape.constant(Tensor(shape: [inputs.count], scalars: inputs))).value.scalars
        let worst = worstUlps(inputs, y) { ScalarMath.sigmoid($0) }
        #expect(worst.ulps <= 4, "expected every value within 4 ulp of the Double formula, worst \(worst.ulps) ulp at x = \(worst.x)")
        #expect(Array(y.suffix(6)) == [0.5, 0.5, 1, 0, 1, 0], "sigmoid at 0, -0, ±∞, ±1e4: got \(Array(y.suffix(6)))")
        let (nan, nanFirst) = withNaN { sigmoid($0) }
        #expect(nan[8].isNaN && nanFirst[0].isNaN, "NaN in, NaN out (scalar tail and vector lane)")
    }

    @Test("Float tanh, eight at a time, stays within 4 ulp of tanh in Double; edges are exact")
    func vectorTanh() {
        // 4001 points over [-12, 12] (both sides of the switch at |x| = 0.625 and of saturation),
        // tiny values where tanh x = x, and the edges.
        let grid: [Float] = (0...4000).map { Float(-12 + 0.006 * Double($0)) }
        let special: [Float] = [1e-20, -3e-8, 0.624, 0.626, -0.625]
        let edgeInputs: [Float] = [0, -0.0, .infinity, -.infinity, 50, -50]
        let inputs = grid + special + edgeInputs
        let tape = Tape<Float>()
        let y = tanh(tape.constant(Tensor(shape: [inputs.count], scalars: inputs))).value.scalars
        let worst = worstUlps(inputs, y) { Foundation.tanh($0) }
        #expect(worst.ulps <= 4, "expected every value within 4 ulp of tanh in Double, worst \(worst.ulps) ulp at x = \(worst.x)")
        let edges = Array(y.suffix(6))
        #expect(edges == [0, 0, 1, -1, 1, -1] && edges[1].sign == .minus, "tanh at 0, -0, ±∞, ±50: got \(edges)")
        let (nan, nanFirst) = withNaN { tanh($0) }
        #expect(nan[8].isNaN && nanFirst[0].isNaN && nanFirst[1] == nan[1],
                "NaN in, NaN out (scalar tail and vector lane), other lanes unaffected: \(nanFirst)")
    }

    @Test("sigmoid is finite and exact at extreme inputs")
    func sigmoidExtremes() {
        let tape = Tape<Float>()
        let y = sigmoid(tape.constant(Tensor<Float>([-1e4, 1e4, 0])))
        #expect(y.value.scalars == [0, 1, 0.5])
    }
}

@Suite("Elementwise ops worked by hand")
struct HandWorkedElementwiseTests {
    /// (op, x, f(x), f'(x)) with the values done on paper.
    static let cases: [(String, Double, Double, Double)] = [
        ("exp", 0, 1, 1), ("log", 2, 0.6931471805599453, 0.5), ("sqrt", 4, 2, 0.25), ("pow3", 2, 8, 12),
        ("abs", -3, 3, -1), ("squared", 3, 9, 6), ("reciprocal", 2, 0.5, -0.25), ("negate", 5, -5, -1),
        ("scaled", 2, 7, 3.5),
        ("sin", 0, 0, 1), ("cos", 0, 1, 0), ("tan", 0, 0, 1), ("asin", 0.5, Double.pi / 6, 1 / 0.75.squareRoot()),
        ("acos", 0, Double.pi / 2, -1), ("atan", 1, Double.pi / 4, 0.5), ("sinh", 0, 0, 1), ("cosh", 0, 1, 0),
        ("log1p", 1, Foundation.log(2), 0.5), ("expm1", 0, 0, 1), ("softplus", 0, Foundation.log(2), 0.5),
        ("pow12", 2, 4096, 24576), ("clamp", 3, 1, 0), ("clampInside", 0.5, 0.5, 1),
    ]

    @Test("value and derivative at one point", arguments: cases.map(\.0))
    func valueAndDerivative(_ name: String) {
        let (_, x0, value, derivative) = Self.cases.first { $0.0 == name }!
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(x0))
        let y: Variable<Double> = switch name {
        case "exp": exp(x)
        case "log": log(x)
        case "sqrt": sqrt(x)
        case "pow3": pow(x, 3)
        case "abs": abs(x)
        case "squared": x.squared()
        case "reciprocal": 1 / x
        case "negate": -x
        case "sin": sin(x)
        case "cos": cos(x)
        case "tan": tan(x)
        case "asin": asin(x)
        case "acos": acos(x)
        case "atan": atan(x)
        case "sinh": sinh(x)
        case "cosh": cosh(x)
        case "log1p": log1p(x)
        case "expm1": expm1(x)
        case "softplus": softplus(x)
        case "pow12": pow(x, 12)
        case "clamp", "clampInside": clamp(x, min: -1, max: 1)
        default: 3.5 * x
        }
        tape.backward(y)
        #expect(abs(y.scalar - value) < 1e-15, "\(name)(\(x0)) should be \(value), got \(y.scalar)")
        #expect(abs(x.gradient.scalar - derivative) < 1e-15, "\(name)'(\(x0)) should be \(derivative), got \(x.gradient.scalar)")
    }

    @Test("a quotient and a broadcast sum, by hand")
    func binaryByHand() {
        let tape = Tape<Double>()
        let a = tape.parameter(Tensor([[1, 2], [3, 4]]))
        let b = tape.parameter(Tensor([2, 4]))
        // Σ a/b: ∂/∂a = 1/b per column; ∂/∂b_j = -Σ_i a_ij / b_j².
        tape.backward((a / b).sum())
        #expect(a.gradient == Tensor([[0.5, 0.25], [0.5, 0.25]]))
        #expect(b.gradient == Tensor([-4.0 / 4, -6.0 / 16]))
    }
}
