import Autodiff
import Testing

@Suite("Losses")
struct LossTests {
    static let logits = randomTensor([6, 4], seed: 31, in: -3..<3)
    static let labels = [0, 3, 1, 1, 2, 3]
    static var oneHot: Tensor<Double> {
        var t = Tensor<Double>.zeros([6, 4])
        for (i, label) in labels.enumerated() { t[i, label] = 1 }
        return t
    }
    static let probabilities = randomTensor([6, 4], seed: 32, in: 0.05..<0.95)
    static let binaryTargets = randomTensor([6, 4], seed: 33, in: 0..<1).map { $0 > 0.5 ? 1 : 0 }

    @Test("mean squared error")
    func mse() {
        expectGradients(at: [Self.logits, Self.probabilities]) { _, v in meanSquaredError(v[0], v[1]) }
        let tape = Tape<Double>()
        let loss = meanSquaredError(tape.constant(Tensor([1, 2])), tape.constant(Tensor([3, 2])))
        #expect(loss.scalar == 2, "((1-3)² + 0)/2 = 2, got \(loss.scalar)")
    }

    @Test("binary cross-entropy on probabilities and on logits")
    func bce() {
        expectGradients(at: [Self.probabilities, Self.binaryTargets]) { _, v in binaryCrossEntropy(v[0], v[1]) }
        expectGradients(at: [Self.logits, Self.binaryTargets]) { _, v in binaryCrossEntropy(logits: v[0], targets: v[1]) }
        // The logits form equals BCE of sigmoid(z).
        let tape = Tape<Double>()
        let z = tape.constant(Self.logits)
        let t = tape.constant(Self.binaryTargets)
        let a = binaryCrossEntropy(logits: z, targets: t).scalar
        let b = binaryCrossEntropy(sigmoid(z), t).scalar
        #expect(abs(a - b) < 1e-12, "logits form \(a) vs probability form \(b)")
    }

    @Test("binary cross-entropy stays finite at probabilities 0 and 1 and logits ±1e4")
    func bceExtremes() {
        let tape = Tape<Float>()
        let p = tape.parameter(Tensor<Float>([0, 1, 0, 1]))
        let z = tape.parameter(Tensor<Float>([-1e4, 1e4, -1e4, 1e4]))
        let t = tape.constant(Tensor<Float>([1, 0, 0, 1]))
        let loss = binaryCrossEntropy(p, t) + binaryCrossEntropy(logits: z, targets: t)
        tape.backward(loss)
        #expect(loss.scalar.isFinite && loss.scalar > 1e3, "two logits wrong by 1e4 cost ~1e4/4 each, got \(loss.scalar)")
        #expect(p.gradient.scalars.allSatisfy { $0.isFinite })
        #expect(z.gradient.scalars.allSatisfy { $0.isFinite })
    }

    @Test("cross-entropy on probabilities, against one-hot rows and against class indices")
    func crossEntropies() {
        expectGradients(at: [Self.probabilities, Self.oneHot]) { _, v in crossEntropy(v[0], v[1]) }
        expectGradients(at: [Self.probabilities]) { _, v in crossEntropy(v[0], labels: Self.labels) }
        let tape = Tape<Double>()
        let p = tape.constant(Self.probabilities)
        let a = crossEntropy(p, labels: Self.labels).scalar
        let b = crossEntropy(p, tape.constant(Self.oneHot)).scalar
        #expect(abs(a - b) < 1e-12)
    }

    @Test("fused softmax cross-entropy equals logSoftmax composition; gradient is (softmax - onehot)/batch")
    func softmaxCE() {
        expectGradients(at: [Self.logits]) { _, v in softmaxCrossEntropy(logits: v[0], labels: Self.labels) }
        expectGradients(at: [Self.logits, Self.oneHot]) { _, v in softmaxCrossEntropy(logits: v[0], targets: v[1]) }
        let tape = Tape<Double>()
        let z = tape.parameter(Self.logits)
        let fused = softmaxCrossEntropy(logits: z, labels: Self.labels)
        let composed = -(z.logSoftmax() * tape.constant(Self.oneHot)).sum() / 6
        #expect(abs(fused.scalar - composed.scalar) < 1e-12)
        tape.backward(fused)
        let expected = (tape.constant(Self.logits).softmax().value - Self.oneHot) / 6
        #expect(z.gradient.maxAbsoluteDifference(expected) < 1e-15)
    }

    @Test("softmax cross-entropy is finite for logits of ±1e4")
    func softmaxCEExtremes() {
        let tape = Tape<Float>()
        let z = tape.parameter(Tensor<Float>([[1e4, -1e4, 0], [-1e4, 1e4, 1e4]]))
        let loss = softmaxCrossEntropy(logits: z, labels: [1, 0])
        tape.backward(loss)
        #expect(loss.scalar.isFinite && loss.scalar > 1e4, "both rows are wrong by ~2e4, got \(loss.scalar)")
        #expect(z.gradient.scalars.allSatisfy { $0.isFinite })
    }
}

/// Float losses summed accurately: each fused loss in Float within 1e-5 relative of the same
/// loss in Double on the same inputs, at a size where summing one element at a time is off by
/// 1e-4 to 1e-3 (`bench accuracy` runs 10⁷).
@Suite("Float accuracy of the fused losses")
struct LossAccuracyTests {
    enum Loss: CaseIterable {
        case meanSquaredError, binaryCrossEntropy, binaryCrossEntropyLogits, crossEntropy, crossEntropyLabels
        case softmaxCrossEntropyLabels, softmaxCrossEntropyTargets
    }

    /// The loss of fixed inputs [rows, 2] (the row-wise losses take 2 classes).
    static func value<T: TensorScalar>(_ loss: Loss, _ a: Tensor<Float>, _ b: Tensor<Float>, labels: [Int], _: T.Type) -> Double {
        let tape = Tape<T>()
        let (x, y) = (tape.constant(a.converted(to: T.self)), tape.constant(b.converted(to: T.self)))
        let result: Variable<T> = switch loss {
        case .meanSquaredError: meanSquaredError(x, y)
        case .binaryCrossEntropy: binaryCrossEntropy(sigmoid(x), y)
        case .binaryCrossEntropyLogits: binaryCrossEntropy(logits: x, targets: y)
        case .crossEntropy: crossEntropy(x.softmax(alongAxis: 1), y)
        case .crossEntropyLabels: crossEntropy(x.softmax(alongAxis: 1), labels: labels)
        case .softmaxCrossEntropyLabels: softmaxCrossEntropy(logits: x, labels: labels)
        case .softmaxCrossEntropyTargets: softmaxCrossEntropy(logits: x, targets: y)
        }
        return Double(result.scalar)
    }

    @Test("each loss in Float within 1e-5 of Double at 10⁶ rows", arguments: Loss.allCases)
    func floatAgainstDouble(_ loss: Loss) {
        let rows = 1_000_000
        var generator = SeededGenerator(seed: 22)
        let a = Tensor<Float>.randomUniform([rows, 2], in: -3..<3, using: &generator)
        let b = Tensor<Float>.randomUniform([rows, 2], in: 0..<1, using: &generator)
        let labels = (0..<rows).map { $0 % 2 }
        let (single, double) = (Self.value(loss, a, b, labels: labels, Float.self), Self.value(loss, a, b, labels: labels, Double.self))
        let error = Swift.abs(single - double) / Swift.abs(double)
        #expect(error <= 1e-5, "\(loss): Float \(single), Double \(double), relative error \(error)")
    }

    @Test("the gradient of a scalar broadcast over 10⁶ elements, in Float within 1e-5 of Double")
    func broadcastGradient() {
        var generator = SeededGenerator(seed: 23)
        let x = Tensor<Float>.randomUniform([1_000_000], in: 0..<1, using: &generator)
        func gradientOfScale<T: TensorScalar>(_: T.Type) -> Double {
            Double(gradient(at: [x.converted(to: T.self), Tensor<T>(1.5)]) { ($0[0] * $0[1]).sum() }[1].scalar)
        }
        let (single, double) = (gradientOfScale(Float.self), gradientOfScale(Double.self))
        #expect(Swift.abs(single - double) / double <= 1e-5, "Σx: Float \(single), Double \(double)")
    }
}
