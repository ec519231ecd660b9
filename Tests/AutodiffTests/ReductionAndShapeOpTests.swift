import Autodiff
import Testing

@Suite("Reductions, softmax, matrix and shape ops")
struct ReductionAndShapeOpTests {
    static let cube = randomTensor([3, 4, 5], seed: 21)
    static let matrix = randomTensor([7, 13], seed: 22)

    @Test("sum and mean, all and along each axis, with and without kept dimensions")
    func sums() {
        expectGradients(at: [Self.matrix]) { _, v in v[0].sum() }
        expectGradients(at: [Self.matrix]) { _, v in v[0].mean() }
        for axis in [0, 1, 2, -1] {
            for keep in [true, false] {
                expectGradients(at: [Self.cube]) { _, v in v[0].sum(alongAxis: axis, keepingDimensions: keep) }
                expectGradients(at: [Self.cube]) { _, v in v[0].mean(alongAxis: axis, keepingDimensions: keep) }
            }
        }
    }

    @Test("sum along an axis, worked by hand")
    func sumByHand() {
        let tape = Tape<Double>()
        let x = tape.constant(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(x.sum(alongAxis: 0).value == Tensor([5, 7, 9]))
        #expect(x.sum(alongAxis: 1, keepingDimensions: true).value == Tensor(shape: [2, 1], scalars: [6, 15]))
        #expect(x.mean(alongAxis: 1).value == Tensor([2, 5]))
    }

    @Test("max along an axis sends the gradient to the maximum")
    func maximum() {
        for axis in [0, 1, 2] {
            expectGradients(at: [Self.cube]) { _, v in v[0].max(alongAxis: axis, keepingDimensions: axis == 1) }
        }
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(shape: [2, 3], scalars: [1, 9, 3, 7, 5, 6]))
        let m = x.max(alongAxis: 1)
        #expect(m.value == Tensor([9, 7]))
        tape.backward(m.sum())
        #expect(x.gradient == Tensor(shape: [2, 3], scalars: [0, 1, 0, 1, 0, 0]))
    }

    @Test("softmax and logSoftmax along the last and the first axis")
    func softmaxes() {
        for axis in [-1, 0] {
            expectGradients(at: [Self.matrix]) { _, v in v[0].softmax(alongAxis: axis) }
            expectGradients(at: [Self.matrix]) { _, v in v[0].logSoftmax(alongAxis: axis) }
        }
        expectGradients(at: [Self.cube]) { _, v in v[0].softmax(alongAxis: 1) }
        let tape = Tape<Double>()
        let p = tape.constant(Tensor([[0, 0], [1e4, -1e4]])).softmax()
        #expect(p.value == Tensor([[0.5, 0.5], [1, 0]]), "softmax rows, got \(p.value)")
    }

    @Test("matmul on odd shapes, worked by hand on a 2×2")
    func matmulGradients() {
        expectGradients(at: [randomTensor([7, 13], seed: 1), randomTensor([13, 5], seed: 2)]) { _, v in matmul(v[0], v[1]) }
        expectGradients(at: [randomTensor([1, 1], seed: 3), randomTensor([1, 1], seed: 4)]) { _, v in matmul(v[0], v[1]) }
        expectGradients(at: [randomTensor([1, 13], seed: 5), randomTensor([13, 7], seed: 6)]) { _, v in matmul(v[0], v[1]) }
        let tape = Tape<Double>()
        let a = tape.parameter(Tensor([[1, 2], [3, 4]]))
        let b = tape.parameter(Tensor([[5, 6], [7, 8]]))
        let c = matmul(a, b)
        #expect(c.value == Tensor([[19, 22], [43, 50]]))
        tape.backward(c.sum())
        // ∂Σ(AB)/∂A = 1·Bᵀ: each row holds the row sums of B.
        #expect(a.gradient == Tensor([[11, 15], [11, 15]]))
        #expect(b.gradient == Tensor([[4, 4], [6, 6]]))
    }

    @Test("fused linear equals matmul plus broadcast bias, in value and gradients")
    func linearMatchesComposition() {
        let inputs = [randomTensor([7, 13], seed: 1), randomTensor([13, 5], seed: 2), randomTensor([5], seed: 3)]
        expectGradients(at: inputs) { _, v in linear(v[0], weight: v[1], bias: v[2]) }
        let fused = GradientCheck.check(at: inputs) { _, v in linear(v[0], weight: v[1], bias: v[2]).squared().sum() }
        #expect(fused.maxError < 1e-6, "\(fused)")
        let tape = Tape<Double>()
        let (x, w, b) = (tape.parameter(inputs[0]), tape.parameter(inputs[1]), tape.parameter(inputs[2]))
        let y1 = linear(x, weight: w, bias: b)
        let y2 = matmul(x, w) + b
        #expect(y1.value.maxAbsoluteDifference(y2.value) < 1e-12)
    }

    @Test("linear with a fused activation: finite differences, and the unfused composition in Double and Float", arguments: FusedActivation.allCases)
    func linearWithActivation(_ activation: FusedActivation) {
        // Pre-activations at least 1e-3 from 0 (ReLU's kink), checked below: a finite-difference
        // step of 1e-6 never crosses it.
        let inputs = [randomTensor([7, 13], seed: 11), randomTensor([13, 5], seed: 12), randomTensor([5], seed: 13)]
        let pre = Tensor.matmul(inputs[0], inputs[1]) + inputs[2]
        #expect(pre.scalars.allSatisfy { abs($0) > 1e-3 }, "the seeds must keep pre-activations off 0, smallest \(pre.scalars.map(abs).min()!)")
        func unfused<S>(_ z: Variable<S>) -> Variable<S> {
            switch activation {
            case .relu: relu(z)
            case .sigmoid: sigmoid(z)
            case .tanh: tanh(z)
            }
        }
        expectGradients(at: inputs) { _, v in linear(v[0], weight: v[1], bias: v[2], activation: activation) }
        func compare<S: TensorScalar>(_: S.Type, tolerance: Double) {
            let tape = Tape<S>()
            let converted = inputs.map { $0.converted(to: S.self) }
            let (x, w, b) = (tape.parameter(converted[0]), tape.parameter(converted[1]), tape.parameter(converted[2]))
            let projection = randomTensor([7, 5], seed: 14).converted(to: S.self)
            let fused = linear(x, weight: w, bias: b, activation: activation)
            tape.backward((fused * tape.constant(projection)).sum())
            let fusedGradients = [x, w, b].map(\.gradient)
            let fusedValue = fused.value
            tape.reset()
            let composed = unfused(linear(x, weight: w, bias: b))
            tape.backward((composed * tape.constant(projection)).sum())
            let difference = zip(fusedGradients, [x, w, b].map(\.gradient)).map { Double($0.maxAbsoluteDifference($1)) }.max()!
            #expect(Double(fusedValue.maxAbsoluteDifference(composed.value)) < tolerance, "\(S.self) values: \(fusedValue.maxAbsoluteDifference(composed.value))")
            #expect(difference < tolerance, "\(S.self) gradients differ from the composition by \(difference)")
        }
        compare(Double.self, tolerance: 1e-12)
        compare(Float.self, tolerance: 1e-5)
    }

    @Test("transpose, reshape, broadcast and gathered rows")
    func shapeOps() {
        expectGradients(at: [Self.matrix]) { _, v in v[0].transposed() }
        expectGradients(at: [Self.cube]) { _, v in v[0].reshaped(to: [4, -1]) }
        expectGradients(at: [randomTensor([1, 13], seed: 7)]) { _, v in v[0].broadcast(to: [7, 13]) }
        expectGradients(at: [randomTensor([7, 1], seed: 8)]) { _, v in v[0].broadcast(to: [2, 7, 13]) }
        expectGradients(at: [Self.matrix]) { _, v in v[0].gatherRows([6, 0, 3, 0, 0]) }
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor([[1, 2], [3, 4], [5, 6]]))
        let rows = x.gatherRows([2, 0, 2])
        #expect(rows.value == Tensor([[5, 6], [1, 2], [5, 6]]))
        tape.backward(rows.sum())
        #expect(x.gradient == Tensor([[1, 1], [0, 0], [2, 2]]), "row 2 gathered twice gets 2")
    }
}

@Suite("Shape ops and log-softmax worked by hand")
struct HandWorkedShapeTests {
    @Test("transpose, reshape and broadcast move gradients back where the values came from")
    func shapes() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor([[1, 2, 3], [4, 5, 6]]))
        let weights = tape.constant(Tensor([[1, 10], [100, 1000], [1e4, 1e5]]))
        // Σ xᵀ ⊙ W: ∂/∂x[i][j] = W[j][i].
        tape.backward((x.transposed() * weights).sum())
        #expect(x.gradient == Tensor([[1, 100, 1e4], [10, 1000, 1e5]]))
        tape.reset()
        // Reshaped to a column, scaled by the row index: ∂/∂x = the index, in x's layout.
        tape.backward((x.reshaped(to: [6, 1]) * tape.constant(Tensor(shape: [6, 1], scalars: [0, 1, 2, 3, 4, 5]))).sum())
        #expect(x.gradient == Tensor([[0, 1, 2], [3, 4, 5]]))
        tape.reset()
        let row = tape.parameter(Tensor([[1, 2, 3]]))
        // Broadcast to 4 rows: each element is used 4 times.
        tape.backward(row.broadcast(to: [4, 3]).sum())
        #expect(row.gradient == Tensor([[4, 4, 4]]))
    }

    @Test("subtraction and log-softmax")
    func subtractAndLogSoftmax() {
        let tape = Tape<Double>()
        let a = tape.parameter(Tensor([5.0, 7.0]))
        let b = tape.parameter(Tensor(2.0))
        // Σ (a - b): ∂/∂a = 1 each, ∂/∂b = -2 (b is broadcast to both).
        tape.backward((a - b).sum())
        #expect(a.gradient == Tensor([1, 1]) && b.gradient == Tensor(-2.0))
        tape.reset()
        // log softmax of [0, 0] is [-log 2, -log 2]; the gradient of its first entry is
        // [1 - ½, -½].
        let z = tape.parameter(Tensor([[0.0, 0.0]]))
        let y = z.logSoftmax()
        #expect(abs(y.value[0, 0] + Double.log(2)) < 1e-15)
        tape.backward(y.gatherRows([0]).reshaped(to: [2]).gatherRows([0]).sum())
        #expect(z.gradient == Tensor([[0.5, -0.5]]))
    }
}
