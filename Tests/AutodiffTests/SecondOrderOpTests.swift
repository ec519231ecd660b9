import Autodiff
import Testing

/// Every op that is not a rule of the table (products, reductions, softmax, losses, shape and
/// selection ops), written once generically and checked on duals: Hessian-vector products
/// against differences of the tape's gradient, and Jacobian-vector products against differences
/// of the value. The output goes through sin, so linear ops get a nonzero Hessian whose check
/// runs through their pullbacks.
@Suite("Second order and forward mode of every op outside the rule table")
struct SecondOrderOpTests {
    enum Op: String, CaseIterable, CustomTestStringConvertible {
        case matmul, matmulVectorLeft, matmulVectorRight, dot, batchedMatmul, sharedBatchMatmul, linear, linearSigmoid, linearTanh, transposed, permuted
        case reshaped, broadcast, gatherRows, element, slice, sliceAlongAxis, split, concatenate, stack
        case sum, sumAlongAxis, mean, meanAlongAxis, variance, standardDeviation, maxAlongAxis, minAlongAxis, max, min
        case logSumExp, softmax, logSoftmax, meanSquaredError, binaryCrossEntropy, binaryCrossEntropyLogits
        case crossEntropy, crossEntropyLabels, softmaxCrossEntropyLabels, softmaxCrossEntropyTargets
        case select, stopGradient
        case conv2d, conv2dStridePadding, conv2dDilation, conv2dGroups, conv2dPointwise, conv2dWholeInput
        case maxPool2d, maxPool2dOverlapping, avgPool2d, avgPool2dInside, dropout
        var testDescription: String { rawValue }
    }

    /// The input shapes and the range of values an op is checked on.
    static func inputs(_ op: Op) -> (shapes: [[Int]], range: Range<Double>) {
        let any = -1.5..<1.5, positive = 0.2..<0.9
        switch op {
        case .matmul: return ([[4, 3], [3, 5]], any)
        case .matmulVectorLeft: return ([[3], [3, 4]], any)
        case .matmulVectorRight: return ([[4, 3], [3]], any)
        case .dot: return ([[5], [5]], any)
        case .batchedMatmul: return ([[2, 3, 4], [2, 4, 2]], any)
        case .sharedBatchMatmul: return ([[2, 3, 4], [4, 2]], any)
        case .linear, .linearSigmoid, .linearTanh: return ([[3, 4], [4, 2], [2]], any)
        case .transposed, .reshaped, .gatherRows, .element, .slice, .sliceAlongAxis, .split, .sum, .sumAlongAxis,
             .mean, .meanAlongAxis, .variance, .standardDeviation, .maxAlongAxis, .minAlongAxis, .max, .min,
             .logSumExp, .softmax, .logSoftmax, .stopGradient, .softmaxCrossEntropyLabels:
            return ([[3, 4]], any)
        case .permuted: return ([[2, 3, 4]], any)
        case .broadcast: return ([[3, 1]], any)
        case .concatenate, .stack, .meanSquaredError, .binaryCrossEntropyLogits, .select: return ([[3, 4], [3, 4]], any)
        case .softmaxCrossEntropyTargets: return ([[3, 4], [3, 4]], positive)
        case .binaryCrossEntropy, .crossEntropy: return ([[3, 4], [3, 4]], positive)
        case .crossEntropyLabels: return ([[3, 4]], positive)
        case .conv2d: return ([[2, 3, 5, 4], [4, 3, 3, 2], [4]], any)
        case .conv2dStridePadding: return ([[1, 2, 6, 5], [3, 2, 3, 3]], any)
        case .conv2dDilation: return ([[2, 1, 7, 6], [2, 1, 2, 3]], any)
        case .conv2dGroups: return ([[1, 4, 4, 4], [6, 2, 2, 2], [6]], any)
        case .conv2dPointwise: return ([[2, 3, 3, 3], [5, 3, 1, 1]], any)
        case .conv2dWholeInput: return ([[2, 2, 3, 4], [3, 2, 3, 4]], any)
        case .maxPool2d, .maxPool2dOverlapping: return ([[2, 2, 5, 5]], any)
        case .avgPool2d, .avgPool2dInside: return ([[1, 2, 5, 6]], any)
        case .dropout: return ([[3, 4]], any)
        }
    }

    /// The op on variables of any scalar (the exhaustive switch: a new case needs its line).
    static func apply<T: TensorScalar>(_ op: Op, _ v: [Variable<T>]) -> Variable<T> {
        switch op {
        case .matmul, .matmulVectorLeft, .matmulVectorRight, .dot, .batchedMatmul, .sharedBatchMatmul: return matmul(v[0], v[1])
        case .linear: return linear(v[0], weight: v[1], bias: v[2])
        // ReLU's fused form has a kink inside the sampled range; its first derivative is checked
        // with the other activations in ReductionAndShapeOpTests.
        case .linearSigmoid: return linear(v[0], weight: v[1], bias: v[2], activation: .sigmoid)
        case .linearTanh: return linear(v[0], weight: v[1], bias: v[2], activation: .tanh)
        case .transposed: return v[0].transposed()
        case .permuted: return v[0].transposed([2, 0, 1])
        case .reshaped: return v[0].reshaped(to: [2, -1]) * v[0].reshaped(to: [2, 6])
        case .broadcast: return v[0].broadcast(to: [3, 4])
        case .gatherRows: return v[0].gatherRows([2, 0, 2])
        case .element: return v[0][1] * v[0][2]
        case .slice: return v[0][1...]
        case .sliceAlongAxis: return v[0].slice(alongAxis: 1, 1..<3)
        case .split:
            let parts = v[0].split(alongAxis: 1, sizes: [1, 3])
            return parts[0] * parts[1].sum(alongAxis: 1, keepingDimensions: true)
        case .concatenate: return concatenate([v[0], v[1] * v[0]], alongAxis: 1)
        case .stack: return stack([v[0], v[1] * v[0]], alongAxis: 1)
        case .sum: return v[0].sum() * v[0].sum()
        case .sumAlongAxis: return v[0].sum(alongAxis: 0)
        case .mean: return v[0].mean() * v[0][0][0]
        case .meanAlongAxis: return v[0].mean(alongAxis: 1, keepingDimensions: true)
        case .variance: return v[0].variance(alongAxis: 1)
        case .standardDeviation: return v[0].standardDeviation(alongAxis: 0)
        case .maxAlongAxis: return v[0].max(alongAxis: 1)
        case .minAlongAxis: return v[0].min(alongAxis: 0)
        case .max: return v[0].max() * v[0].sum()
        case .min: return v[0].min() * v[0].sum()
        case .logSumExp: return v[0].logSumExp(alongAxis: 1)
        case .softmax: return v[0].softmax(alongAxis: -1)
        case .logSoftmax: return v[0].logSoftmax(alongAxis: 0)
        case .meanSquaredError: return meanSquaredError(v[0], v[1])
        case .binaryCrossEntropy: return binaryCrossEntropy(v[0], v[1])
        case .binaryCrossEntropyLogits: return binaryCrossEntropy(logits: v[0], targets: v[1])
        case .crossEntropy: return crossEntropy(v[0], v[1])
        case .crossEntropyLabels: return crossEntropy(v[0], labels: [3, 0, 1])
        case .softmaxCrossEntropyLabels: return softmaxCrossEntropy(logits: v[0], labels: [3, 0, 1])
        case .softmaxCrossEntropyTargets: return softmaxCrossEntropy(logits: v[0], targets: v[1])
        case .select:
            let mask = Tensor<T>(shape: [3, 4], scalars: (0..<12).map { $0 % 3 == 0 ? 1 : 0 })
            return select(mask, v[0], v[1] * v[0])
        case .stopGradient: return stopGradient(v[0]) * v[0]
        case .conv2d: return conv2d(v[0], weight: v[1], bias: v[2])
        case .conv2dStridePadding: return conv2d(v[0], weight: v[1], stride: (2, 2), padding: (1, 2))
        case .conv2dDilation: return conv2d(v[0], weight: v[1], stride: (1, 2), dilation: (2, 2))
        case .conv2dGroups: return conv2d(v[0], weight: v[1], bias: v[2], groups: 2)
        case .conv2dPointwise: return conv2d(v[0], weight: v[1])
        case .conv2dWholeInput: return conv2d(v[0], weight: v[1])
        case .maxPool2d: return v[0].maxPool2d(kernel: (2, 2))
        case .maxPool2dOverlapping: return v[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        case .avgPool2d: return v[0].avgPool2d(kernel: (2, 3), stride: (1, 2), padding: (1, 1))
        case .avgPool2dInside: return v[0].avgPool2d(kernel: (2, 2), stride: (1, 2))
        case .dropout:
            // The same mask on every evaluation: the generator starts from its seed each time.
            var generator = SeededGenerator(seed: 5)
            return dropout(v[0], probability: 0.4, using: &generator)
        }
    }

    static func point(_ op: Op) -> [Tensor<Double>] {
        let (shapes, range) = inputs(op)
        return shapes.enumerated().map { randomTensor($1, seed: 80 + UInt64($0), in: range) }
    }

    /// stopGradient is left out of the checks against differences: it stops tangents too, so its
    /// H·v and J·v are those of a constant (ModeAgreementTests checks them), not differences.
    static let differentiable = Op.allCases.filter { $0 != .stopGradient }

    @Test("Hessian-vector products against central differences of the tape's gradient", arguments: differentiable)
    func hessianVectorProducts(_ op: Op) {
        let x = Self.point(op)
        let directions = x.enumerated().map { randomTensor($1.shape, seed: 90 + UInt64($0)) }
        let result = GradientCheck.checkHessianVectorProducts(at: x, directions: directions) { _, v in sin(Self.apply(op, v)) }
        #expect(result.maxError < 1e-6, "\(op): H·v against differences of gradients: \(result)")
    }

    @Test("Jacobian-vector products against central differences of the value", arguments: differentiable)
    func jacobianVectorProducts(_ op: Op) {
        let x = Self.point(op)
        let directions = x.enumerated().map { randomTensor($1.shape, seed: 95 + UInt64($0)) }
        let result = GradientCheck.checkJacobianVectorProducts(at: x, directions: directions) { _, v in Self.apply(op, v) }
        #expect(result.maxError < 1e-6, "\(op): J·v against differences of values: \(result)")
    }

    /// stopGradient is left out: finite differences do not stop anything.
    @Test("first derivatives of the same ops on plain Double (the second-order cases are sound)",
          arguments: differentiable)
    func firstOrder(_ op: Op) {
        expectGradients(at: Self.point(op)) { _, v in sin(Self.apply(op, v)) }
    }

    @Test("the checker catches a wrong second derivative")
    func detectsWrongSecondDerivative() {
        // A custom op whose pullback is right to first order only at the point (2x₀ instead of 2x):
        // its gradient is exact there, its Hessian-vector product is zero instead of 2v.
        let x = Tensor<Double>([0.5, -1, 2])
        let result = GradientCheck.checkHessianVectorProducts(at: [x], directions: [Tensor([1, 1, 1])]) { _, v in
            let frozen = v[0].value.values().converted(to: Dual<Double>.self)
            return v[0].tape.record("frozenSquare", shape: [3], v[0], forward: { ctx in
                for i in 0..<3 { ctx.output.value[i] = ctx.a.value[i] * ctx.a.value[i] }
            }, pullback: { ctx in
                for i in 0..<3 { ctx.a.gradient![i] += ctx.output.gradient![i] * 2 * frozen.scalars[i] }
            }).sum()
        }
        #expect(result.maxError > 0.5, "a frozen derivative should fail the second-order check, got \(result)")
    }
}
