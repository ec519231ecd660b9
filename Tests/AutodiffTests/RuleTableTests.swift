@testable import Autodiff
import Testing

/// Every rule code of the table, checked the same three ways: the tape's gradient against
/// finite differences on a tensor (and with broadcasting both ways for binary rules), on rank 0,
/// and the rank-0 path bit for bit against the tensor path on shape [1].
@Suite("Every rule in the table")
struct RuleTableTests {
    /// How one code is exercised: its op, and inputs away from kinks and outside domains.
    struct Case<T: TensorScalar> {
        let binary: Bool
        let range: Range<Double>
        let op: ([Variable<T>]) -> Variable<T>
    }

    /// The exhaustive switch (no `default`): a new code does not compile until it has a case.
    /// Generic over the scalar, so the same ops run on duals for the second-order checks.
    static func exercise<T: TensorScalar>(_ code: RuleCode, _: T.Type = Double.self) -> Case<T>? {
        let any = -2.0..<2.0, positive = 0.3..<2.5, unit = -0.8..<0.8
        switch code {
        case .none, .storedClosure: return nil
        case .add: return Case(binary: true, range: any) { $0[0] + $0[1] }
        case .subtract: return Case(binary: true, range: any) { $0[0] - $0[1] }
        case .multiply: return Case(binary: true, range: any) { $0[0] * $0[1] }
        case .divide: return Case(binary: true, range: positive) { $0[0] / $0[1] }
        case .power: return Case(binary: true, range: positive) { pow($0[0], $0[1]) }
        case .arctangent2: return Case(binary: true, range: positive) { atan2($0[0], $0[1] - 1.4) }
        case .maximum: return Case(binary: true, range: any) { maximum($0[0], $0[1]) }
        case .minimum: return Case(binary: true, range: any) { minimum($0[0], $0[1]) }
        case .addConstant: return Case(binary: false, range: any) { $0[0] + 3 }
        case .subtractFromConstant: return Case(binary: false, range: any) { 3 - $0[0] }
        case .multiplyByConstant: return Case(binary: false, range: any) { $0[0] * 1.5 }
        case .divideConstant: return Case(binary: false, range: positive) { 1.5 / $0[0] }
        case .clampBelow, .clampAbove: return Case(binary: false, range: any) { clamp($0[0], min: -0.55, max: 0.65) }
        case .negate: return Case(binary: false, range: any) { -$0[0] }
        case .square: return Case(binary: false, range: any) { $0[0].squared() }
        case .absoluteValue: return Case(binary: false, range: any) { abs($0[0]) }
        case .exp: return Case(binary: false, range: any) { exp($0[0]) }
        case .expMinusOne: return Case(binary: false, range: any) { expm1($0[0]) }
        case .log: return Case(binary: false, range: positive) { log($0[0]) }
        case .logOnePlus: return Case(binary: false, range: positive) { log1p($0[0]) }
        case .squareRoot: return Case(binary: false, range: positive) { sqrt($0[0]) }
        // Reached through standardDeviation; recorded directly so that it meets the shapes here.
        case .rootOfSquares:
            return Case(binary: false, range: positive) { $0[0].elementwise("rootOfSquares", RootOfSquaresRule.self) }
        case .powerConstant: return Case(binary: false, range: positive) { pow($0[0], 2.5) + pow($0[0], 3) + pow($0[0], -2) }
        case .sine: return Case(binary: false, range: any) { sin($0[0]) }
        case .cosine: return Case(binary: false, range: any) { cos($0[0]) }
        case .tangent: return Case(binary: false, range: unit) { tan($0[0]) }
        case .arcsine: return Case(binary: false, range: unit) { asin($0[0]) }
        case .arccosine: return Case(binary: false, range: unit) { acos($0[0]) }
        case .arctangent: return Case(binary: false, range: any) { atan($0[0]) }
        case .hyperbolicSine: return Case(binary: false, range: any) { sinh($0[0]) }
        case .hyperbolicCosine: return Case(binary: false, range: any) { cosh($0[0]) }
        case .tanh: return Case(binary: false, range: any) { tanh($0[0]) }
        case .sigmoid: return Case(binary: false, range: any) { sigmoid($0[0] * 3) }
        case .softplus: return Case(binary: false, range: any) { softplus($0[0] * 3) }
        case .relu: return Case(binary: false, range: any) { relu($0[0]) }
        case .leakyRelu: return Case(binary: false, range: any) { leakyRelu($0[0], alpha: 0.1) }
        }
    }

    static let codes = RuleCode.allCases.filter { exercise($0) != nil }

    /// Values in `range`, at least 0.05 from the kinks at 0, ±0.55/0.65 (clamp) and from each
    /// other's ties, so no finite-difference step crosses one.
    func inputs(_ shape: [Int], seed: UInt64, _ range: Range<Double>) -> Tensor<Double> {
        randomTensor(shape, seed: seed, in: range).map { v in
            var x = v
            for kink in [0.0, -0.55, 0.65] where Swift.abs(x - kink) < 0.05 { x = kink + (x < kink ? -0.05 : 0.05) }
            return x
        }
    }

    @Test("gradients against finite differences: odd shapes, broadcasting both ways, a variable used twice",
          arguments: codes)
    func tensors(_ code: RuleCode) {
        let c = Self.exercise(code)!
        let a = inputs([3, 5], seed: 1, c.range)
        if c.binary {
            let b = inputs([3, 5], seed: 2, c.range).map { $0 + 0.013 }
            expectGradients(at: [a, b]) { _, v in c.op(v) }
            expectGradients(at: [a, inputs([5], seed: 3, c.range)]) { _, v in c.op(v) }
            expectGradients(at: [inputs([3, 1], seed: 4, c.range), a]) { _, v in c.op(v) }
            expectGradients(at: [inputs([3, 1, 2], seed: 5, c.range), inputs([1, 4, 2], seed: 6, c.range)]) { _, v in c.op(v) }
            expectGradients(at: [a]) { _, v in c.op([v[0], v[0] * 0.7 + 0.31]) }
        } else {
            expectGradients(at: [a]) { _, v in c.op(v) }
            expectGradients(at: [a]) { _, v in c.op(v) * v[0] }
        }
    }

    @Test("rank 0 against finite differences, and bit for bit against shape [1]", arguments: codes)
    func scalars(_ code: RuleCode) {
        let c = Self.exercise(code)!
        let (a, b) = (inputs([], seed: 7, c.range).scalar, inputs([], seed: 8, c.range).scalar + 0.013)
        let operands = c.binary ? [Tensor(a), Tensor(b)] : [Tensor(a)]
        expectGradients(at: operands) { _, v in c.op(v) }
        func valueAndGradients(_ shape: [Int]) -> [Double] {
            let tape = Tape<Double>()
            let x = operands.map { tape.parameter(Tensor(shape: shape, scalars: $0.scalars)) }
            let y = c.op(x)
            tape.backward(y)
            return [y.value.scalars[0]] + x.map { $0.gradient.scalars[0] }
        }
        let (scalar, vector) = (valueAndGradients([]), valueAndGradients([1]))
        #expect(scalar == vector, "\(code): expected (value, gradients) \(vector) as on shape [1], got \(scalar) on rank 0")
    }

    /// The shapes of the first-order test: a matrix, broadcasting both ways, a variable used twice.
    static func secondOrderCases(_ c: Case<Dual<Double>>, _ inputs: ([Int], UInt64) -> Tensor<Double>)
        -> [(inputs: [Tensor<Double>], op: ([Variable<Dual<Double>>]) -> Variable<Dual<Double>>)] {
        let a = inputs([3, 5], 1)
        if c.binary {
            return [([a, inputs([3, 5], 2).map { $0 + 0.013 }], c.op), ([a, inputs([5], 3)], c.op),
                    ([inputs([3, 1], 4), a], c.op), ([inputs([3, 1, 2], 5), inputs([1, 4, 2], 6)], c.op),
                    ([a], { v in c.op([v[0], v[0] * 0.7 + 0.31]) }), ([inputs([], 7), inputs([], 8)], c.op)]
        }
        return [([a], c.op), ([a], { v in c.op(v) * v[0] }), ([inputs([], 7)], c.op)]
    }

    @Test("Hessian-vector products against central differences of the tape's gradient, broadcasting both ways",
          arguments: codes)
    func secondOrder(_ code: RuleCode) {
        let c = Self.exercise(code, Dual<Double>.self)!
        for (n, (point, op)) in Self.secondOrderCases(c, { inputs($0, seed: $1, c.range) }).enumerated() {
            let directions = point.enumerated().map { randomTensor($1.shape, seed: 40 + UInt64($0)) }
            let result = GradientCheck.checkHessianVectorProducts(at: point, directions: directions) { _, v in op(v) }
            #expect(result.maxError < 1e-6, "\(code), case \(n): H·v against differences of gradients: \(result)")
        }
    }

    @Test("Jacobian-vector products (forward mode) against central differences", arguments: codes)
    func forwardMode(_ code: RuleCode) {
        let c = Self.exercise(code, Dual<Double>.self)!
        for (n, (point, op)) in Self.secondOrderCases(c, { inputs($0, seed: $1, c.range) }).enumerated() {
            let directions = point.enumerated().map { randomTensor($1.shape, seed: 50 + UInt64($0)) }
            let result = GradientCheck.checkJacobianVectorProducts(at: point, directions: directions) { _, v in op(v) }
            #expect(result.maxError < 1e-6, "\(code), case \(n): J·v against differences of values: \(result)")
        }
    }

    @Test("the tensor functions give the values of the ops on variables", arguments: codes)
    func tensorFunctions(_ code: RuleCode) {
        let c = Self.exercise(code)!
        let (a, b) = (inputs([4, 3], seed: 9, c.range), inputs([3], seed: 10, c.range))
        let tape = Tape<Double>()
        let onTape = c.op(c.binary ? [tape.constant(a), tape.constant(b)] : [tape.constant(a)]).value
        let plain: Tensor<Double>? = switch code {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: pow(a, b)
        case .maximum: maximum(a, b)
        case .minimum: minimum(a, b)
        case .exp: exp(a)
        case .expMinusOne: expm1(a)
        case .log: log(a)
        case .logOnePlus: log1p(a)
        case .squareRoot, .rootOfSquares: sqrt(a)
        case .sine: sin(a)
        case .cosine: cos(a)
        case .tangent: tan(a)
        case .arcsine: asin(a)
        case .arccosine: acos(a)
        case .arctangent: atan(a)
        case .hyperbolicSine: sinh(a)
        case .hyperbolicCosine: cosh(a)
        case .tanh: tanh(a)
        case .absoluteValue: abs(a)
        case .relu: relu(a)
        case .leakyRelu: leakyRelu(a, alpha: 0.1)
        case .clampBelow, .clampAbove: clamp(a, min: -0.55, max: 0.65)
        case .arctangent2: atan2(a, b - 1.4)
        case .sigmoid: sigmoid(a * 3)
        case .softplus: softplus(a * 3)
        case .addConstant: a + 3
        case .subtractFromConstant: 3 - a
        case .multiplyByConstant: a * 1.5
        case .divideConstant: 1.5 / a
        case .negate: -a
        case .square: a * a
        case .powerConstant: pow(a, 2.5) + pow(a, 3) + pow(a, -2)
        case .none, .storedClosure: nil
        }
        if let plain { #expect(plain == onTape, "\(code): Tensor function \(plain) differs from the op's value \(onTape)") }
    }
}
