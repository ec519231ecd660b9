import Autodiff
import Foundation
import Testing

@Suite("New ops worked by hand")
struct HandWorkedOpTests {
    @Test("binary ops by hand: pow(2, 3), atan2(1, 1), maximum and minimum with a tie")
    func binaryByHand() {
        let tape = Tape<Double>()
        let (a, b) = (tape.parameter(Tensor(2.0)), tape.parameter(Tensor(3.0)))
        tape.backward(pow(a, b))
        // ∂/∂a = b·a^(b-1) = 12, ∂/∂b = a^b·ln a = 8 ln 2.
        let expectedB: Double = 8 * Foundation.log(2)
        #expect(a.gradient.scalar == 12)
        #expect(abs(b.gradient.scalar - expectedB) < 1e-14)
        tape.reset()
        let (y, x) = (tape.parameter(Tensor([1.0, 5])), tape.parameter(Tensor([1.0, 5])))
        tape.backward((atan2(y, x) + maximum(y, x) - minimum(x, Tensor([0.0, 9]))).sum())
        // atan2(1, 1): ∂y = x/(x²+y²) = 0.5, ∂x = -0.5; the tie of maximum splits ½ + ½.
        let (expectedY, expectedX): ([Double], [Double]) = ([0.5 + 0.5, 0.1 + 0.5], [-0.5 + 0.5, -0.1 + 0.5 - 1])
        #expect(y.gradient.maxAbsoluteDifference(Tensor(expectedY)) < 1e-15, "∂y: got \(y.gradient)")
        #expect(x.gradient.maxAbsoluteDifference(Tensor(expectedX)) < 1e-15, "∂x: got \(x.gradient)")
    }

    @Test("select, masks and stopGradient by hand")
    func selection() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor([-2.0, 3, 0.5]))
        let mask = x .> 0
        #expect(mask.value == Tensor([0, 1, 1]) && !mask.requiresGradient, "mask: got \(mask.value)")
        let y = select(mask, x * x, -x) + stopGradient(x) * x
        // ∂/∂x = 2x where x > 0, -1 elsewhere, plus the stopped x (not differentiated).
        tape.backward(y.sum())
        let (expectedValue, expectedGradient): ([Double], [Double]) = ([2 + 4, 9 + 9, 0.25 + 0.25], [-1 - 2, 6 + 3, 1 + 0.5])
        #expect(y.value == Tensor(expectedValue))
        #expect(x.gradient == Tensor(expectedGradient), "got \(x.gradient)")
        #expect((Tensor([1.0, 2]) .<= Tensor([2.0, 2])) == Tensor([1, 1]) && (Tensor([1.0, 2]) .== 2) == Tensor([0, 1]))
        #expect(select(Tensor([1.0, 0]), Tensor([5.0, 5]), Tensor(7.0)) == Tensor([5, 7]))
    }

    @Test("shape ops by hand: rows, ranges, slices, concatenation, stacking, splits, permutations")
    func shapes() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(x[1].value == Tensor([3, 4]) && x[-1].value == Tensor([5, 6]) && x[0][1].value == Tensor(2.0))
        #expect(x[1...].value == Tensor([[3, 4], [5, 6]]) && x[..<1].value == Tensor([[1, 2]]))
        #expect(x.slice(alongAxis: 1, 1..<2).value == Tensor(shape: [3, 1], scalars: [2, 4, 6]))
        #expect(concatenate([x, x[0..<1]], alongAxis: 0).shape == [4, 2])
        #expect(concatenate([x, x], alongAxis: -1).value == Tensor([[1, 2, 1, 2], [3, 4, 3, 4], [5, 6, 5, 6]]))
        #expect(stack([x[0], x[2]], alongAxis: 1).value == Tensor([[1, 5], [2, 6]]))
        #expect(x.split(alongAxis: 0, sizes: [1, 2]).map(\.shape) == [[1, 2], [2, 2]])
        let cube = tape.constant(Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Double.init)))
        let p = cube.transposed([2, 0, 1])
        #expect(p.shape == [4, 2, 3] && p.value[3, 1, 2] == cube.value[1, 2, 3])
        tape.backward((x[1] * 10).sum() + concatenate([x, x], alongAxis: 1).sum())
        #expect(x.gradient == Tensor([[2, 2], [12, 12], [2, 2]]), "got \(x.gradient)")
    }

    @Test("reductions by hand: min, max, logSumExp, variance, argmax")
    func reductions() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor([[1, 5, 3], [4, 2, 6]]))
        #expect(x.min(alongAxis: 1).value == Tensor([1, 2]) && x.max().scalar == 6 && x.min().scalar == 1)
        #expect(x.argmax(alongAxis: 1) == [1, 2] && x.argmin(alongAxis: 0) == [0, 1, 0])
        #expect(abs(x.logSumExp(alongAxis: 0).value[0] - Foundation.log(Foundation.exp(1) + Foundation.exp(4))) < 1e-15)
        #expect(x.variance(alongAxis: 1).value == Tensor([8.0 / 3, 8.0 / 3]))
        tape.backward(x.variance())
        // ∂/∂x = 2(x - mean)/n with mean 3.5 and n = 6.
        #expect(x.gradient.maxAbsoluteDifference(Tensor([[-2.5, 1.5, -0.5], [0.5, -1.5, 2.5]]) / 3) < 1e-15)
    }

    @Test("matmul with vectors and batches, against the matrix products")
    func products() {
        let tape = Tape<Double>()
        let m = tape.constant(Tensor([[1, 2], [3, 4]]))
        let v = tape.constant(Tensor([1.0, 1]))
        #expect(matmul(m, v).value == Tensor([3, 7]) && matmul(v, m).value == Tensor([4, 6]) && matmul(v, v).value == Tensor(2.0))
        let batch = tape.constant(Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 0, 1, 1, 0]))
        let product = matmul(batch, m).value
        #expect(product == Tensor(shape: [2, 2, 2], scalars: [7, 10, 15, 22, 3, 4, 1, 2]), "got \(product)")
        #expect(matmul(m, batch).value[1, 0, 0] == 2 && matmul(batch, batch).value[1, 0, 0] == 1)
    }

    @Test("printing a variable shows its shape and value")
    func printing() {
        let tape = Tape<Double>()
        #expect("\(tape.parameter(Tensor([1.0, 2])))" == "Variable [2] [1.0, 2.0]")
        let stale = tape.constant(Tensor(1.0))
        tape.reset()
        #expect("\(stale)" == "Variable (recorded before the tape was reset)")
    }
}

@Suite("Shape, reduction and product ops against finite differences")
struct NewOpGradientTests {
    static let cube = randomTensor([3, 4, 5], seed: 31)

    @Test("subscripts, slices, split, concatenate of many parts, stack, transposed(permutation)")
    func shapeOps() {
        let c = Self.cube
        expectGradients(at: [c]) { _, v in v[0][1] * v[0][-1] }
        expectGradients(at: [c]) { _, v in v[0][1..<3] }
        expectGradients(at: [c]) { _, v in v[0].slice(alongAxis: -1, 1...3) }
        expectGradients(at: [c]) { _, v in v[0].split(alongAxis: 1, count: 2)[1] * v[0].split(alongAxis: 1, sizes: [1, 3])[0] }
        let parts = (0..<10).map { randomTensor([2, $0 % 3 + 1], seed: 40 + UInt64($0)) }
        expectGradients(at: parts) { _, v in concatenate(v, alongAxis: 1) }
        expectGradients(at: [c, c]) { _, v in stack(v, alongAxis: 2) }
        expectGradients(at: [c]) { _, v in v[0].transposed([2, 0, 1]) }
        expectGradients(at: [randomTensor([2, 3, 1, 4], seed: 32)]) { _, v in v[0].transposed([3, 1, 0, 2]) }
    }

    @Test("min, max, logSumExp, variance, standard deviation along every axis and over all")
    func reductions() {
        let c = Self.cube
        for axis in [0, 1, 2] {
            for keep in [true, false] {
                expectGradients(at: [c]) { _, v in v[0].min(alongAxis: axis, keepingDimensions: keep) }
                expectGradients(at: [c]) { _, v in v[0].logSumExp(alongAxis: axis, keepingDimensions: keep) }
                expectGradients(at: [c]) { _, v in v[0].variance(alongAxis: axis, keepingDimensions: keep) }
                expectGradients(at: [c]) { _, v in v[0].standardDeviation(alongAxis: axis, keepingDimensions: keep) }
            }
        }
        expectGradients(at: [c]) { _, v in v[0].max() + v[0].min() * 2 + v[0].variance() + v[0].standardDeviation() }
        expectGradients(at: [Tensor([1.5])]) { _, v in v[0].logSumExp(alongAxis: 0) }
    }

    @Test("matmul: vector on either side, two vectors, batches with a shared operand")
    func products() {
        let (m, v, w) = (randomTensor([4, 3], seed: 33), randomTensor([3], seed: 34), randomTensor([4], seed: 35))
        expectGradients(at: [m, v]) { _, x in matmul(x[0], x[1]) }
        expectGradients(at: [w, m]) { _, x in matmul(x[0], x[1]) }
        expectGradients(at: [v, v]) { _, x in matmul(x[0], x[1]) }
        let (a, b) = (randomTensor([2, 4, 3], seed: 36), randomTensor([2, 3, 5], seed: 37))
        expectGradients(at: [a, b]) { _, x in matmul(x[0], x[1]) }
        expectGradients(at: [a, randomTensor([3, 5], seed: 38)]) { _, x in matmul(x[0], x[1]) }
        expectGradients(at: [randomTensor([4, 3], seed: 39), b]) { _, x in matmul(x[0], x[1]) }
        expectGradients(at: [randomTensor([1, 4, 3], seed: 40), b]) { _, x in matmul(x[0], x[1]) }
    }

    @Test("select broadcasts mask and operands; masks pass no gradient")
    func selection() {
        let (a, b) = (randomTensor([3, 4], seed: 41), randomTensor([4], seed: 42))
        expectGradients(at: [a, b]) { _, v in select(v[0] .> v[1], v[0] * v[1], v[1]) }
        expectGradients(at: [a, b]) { _, v in select(v[1] .< 0.2, v[0], 1.5) * v[1] }
        expectGradients(at: [a, b]) { _, v in v[0] * (v[0] .>= v[1]) + (v[1] .== v[1]) }
    }

    @Test("mixed operands: tensors and scalars on either side of every binary op")
    func mixing() {
        let (a, t) = (randomTensor([3, 4], seed: 43, in: 0.5..<2), randomTensor([4], seed: 44, in: 0.5..<2))
        expectGradients(at: [a]) { _, v in (v[0] * t + t) / t - t * v[0] + (t - v[0]) / (t / v[0]) }
        expectGradients(at: [a]) { _, v in pow(v[0], t) + pow(t, v[0]) + pow(2.0, v[0]) + atan2(v[0], t) + atan2(t, v[0]) }
        expectGradients(at: [a]) { _, v in maximum(v[0], t) + minimum(t, v[0]) + maximum(v[0], 1.1) + minimum(0.9, v[0]) }
    }
}

@Suite("IEEE and PyTorch semantics at the edges")
struct EdgeSemanticsTests {
    @Test("NaN propagates through relu, leakyRelu, max, min, maximum, minimum and clamp")
    func nanPropagates() {
        let tape = Tape<Double>()
        let x = tape.constant(Tensor([1, .nan, -1]))
        for (name, y) in [("relu", relu(x)), ("leakyRelu", leakyRelu(x)), ("clamp", clamp(x, min: 0, max: 0.5)),
                          ("maximum", maximum(x, 0.0)), ("minimum", minimum(0.0, x))] {
            #expect(y.value.scalars[1].isNaN, "\(name)(NaN) should be NaN, got \(y.value)")
        }
        #expect(x.max(alongAxis: 0).scalar.isNaN && x.min().scalar.isNaN && Tensor([1.0, 2, .nan]).max().isNaN)
        #expect(relu(tape.constant(Tensor(Double.nan))).scalar.isNaN, "the rank-0 path too")
    }

    @Test("the mean of an empty tensor is NaN; the gradient of pow(x, 0) is 0, also at x = 0")
    func emptyAndPowerZero() {
        let tape = Tape<Double>()
        #expect(tape.constant(Tensor(shape: [0], scalars: [])).mean().scalar.isNaN && Tensor<Float>(shape: [0], scalars: []).mean().isNaN)
        let powers = Tape<Double>()
        let x = powers.parameter(Tensor([0.0, 2]))
        let e = powers.parameter(Tensor([0.0, 0]))
        powers.backward((relu(pow(x, 0)) + pow(x, e)).sum())
        #expect(x.gradient == Tensor([0, 0]), "d/dx x⁰ = 0 everywhere, got \(x.gradient)")
        #expect(e.gradient == Tensor([0, Foundation.log(2)]), "d/de xᵉ at x = 0 is 0 (as in PyTorch), got \(e.gradient)")
    }

    @Test("integer powers by repeated multiplication match x·x·…·x")
    func integerPowers() {
        let tape = Tape<Double>()
        let x = tape.constant(Tensor([1.1, -0.7, 3]))
        let twelve = pow(x, 12).value
        let byHand = x.value.map { v in (0..<12).reduce(1.0) { p, _ in p * v } }
        #expect(twelve.maxAbsoluteDifference(byHand) <= 4 * byHand.scalars.map { $0.ulp }.max()!, "got \(twelve) for \(byHand)")
        #expect(pow(x, -2).value.maxAbsoluteDifference(x.value.map { 1 / ($0 * $0) }) < 1e-15)
    }

    @Test("logSoftmax and softmax cross-entropy are exact at logits of 1e16 (Double) and 1e8 (Float)")
    func largeLogits() {
        let tape = Tape<Double>()
        let z = tape.parameter(Tensor([[1e16, 1e16]]))
        let l = z.logSoftmax()
        #expect(l.value.maxAbsoluteDifference(Tensor([[-Foundation.log(2), -Foundation.log(2)]])) < 1e-15, "got \(l.value)")
        tape.backward(l[0][0])
        #expect(z.gradient == Tensor([[0.5, -0.5]]), "∂/∂z = onehot - softmax, got \(z.gradient)")
        let loss = softmaxCrossEntropy(logits: z, labels: [1])
        #expect(abs(loss.scalar - Foundation.log(2)) < 1e-15, "expected ln 2, got \(loss.scalar)")
        let floats = Tape<Float>()
        let f = floats.parameter(Tensor<Float>([[1e8, 1e8 + 8]]))
        let expected = Float(Foundation.log(1 + Foundation.exp(-8.0)))
        #expect(abs(softmaxCrossEntropy(logits: f, labels: [1]).scalar - expected) < 1e-6 * 1)
        #expect(abs(f.logSoftmax().value[0, 1] + expected) < 1e-6)
        let onehot = floats.constant(Tensor<Float>([[0, 1]]))
        #expect(abs(softmaxCrossEntropy(logits: f, targets: onehot).scalar - expected) < 1e-6)
    }

    @Test("Float sums and means are accurate: 10M × 0.1 and 20M ones")
    func floatAccuracy() {
        let tenths = Tensor<Float>(repeating: 0.1, shape: [10_000_000])
        let mean = tenths.mean()
        #expect(abs(Double(mean) - 0.1) / 0.1 < 1e-6, "mean of 10M × 0.1 should be 0.1, got \(mean)")
        let tape = Tape<Float>()
        let ones = tape.constant(Tensor<Float>(repeating: 1, shape: [20_000_000]))
        #expect(ones.sum().scalar == 2e7, "sum of 20M ones: got \(ones.sum().scalar)")
        let columns = tape.constant(Tensor<Float>(repeating: 0.1, shape: [1_000_000, 2]))
        let perColumn = columns.mean(alongAxis: 0).value
        #expect(perColumn.scalars.allSatisfy { abs(Double($0) - 0.1) / 0.1 < 1e-6 }, "column means: got \(perColumn)")
        let rows = tape.constant(Tensor<Float>(repeating: 0.1, shape: [2, 1_000_000]))
        #expect(rows.mean(alongAxis: 1).value.scalars.allSatisfy { abs(Double($0) - 0.1) / 0.1 < 1e-6 })
        #expect(abs(Double(rows.variance(alongAxis: 1).value[0])) < 1e-9, "variance of a constant row")
    }
}
