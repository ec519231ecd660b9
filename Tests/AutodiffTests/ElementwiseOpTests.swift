import Autodiff
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

    @Test("sigmoid is finite and exact at extreme inputs")
    func sigmoidExtremes() {
        let tape = Tape<Float>()
        let y = sigmoid(tape.constant(Tensor<Float>([-1e4, 1e4, 0])))
        #expect(y.value.scalars == [0, 1, 0.5])
    }
}
