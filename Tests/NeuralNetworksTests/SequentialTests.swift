import Foundation
import NeuralNetworks
import Testing

/// Layers in a Sequential model: the MLP as one case of it, a small CNN's gradients, training,
/// dropout's two modes, and checkpoints.
@Suite("Sequential models and layers")
struct SequentialTests {
    /// A 6×6 single-channel CNN: conv 3×3 → relu → max-pool 2 → flatten → dense → 3 logits.
    static func smallCNN<S: TensorScalar>(on tape: Tape<S>, seed: UInt64, dropout: Double = 0) -> Sequential<S> {
        var generator = SeededGenerator(seed: seed)
        return Sequential([
            Reshape([1, 6, 6]),
            Conv2D(inputs: 1, outputs: 4, kernel: (3, 3), padding: (1, 1), on: tape, using: &generator),
            ActivationLayer(.relu),
            MaxPool2D(kernel: (2, 2)),
            Dropout(probability: dropout, seed: seed),
            Reshape.flatten,
            Dense(inputs: 36, outputs: 3, initializer: .he, on: tape, using: &generator),
        ])
    }

    @Test("an MLP as a Sequential of dense and activation layers: the same logits and checkpoint names")
    func mlpAsSequential() {
        let tape = Tape<Float>()
        let mlp = MLP<Float>(sizes: [5, 4, 3], activation: .relu, initializer: .he, on: tape, seed: 2)
        let sequential = Sequential<Float>([mlp.layers[0], ActivationLayer(.relu), mlp.layers[1]])
        #expect(Sequential(mlp).layers.map(\.description) == sequential.layers.map(\.description))
        let x = tape.constant(randomTensor([7, 5], seed: 3).converted(to: Float.self))
        #expect(sequential(x).value == mlp(x).value)
        #expect(sequential.namedParameters.map(\.name) == mlp.namedParameters.map(\.name))
    }

    @Test("the small CNN's computation (conv, relu, dropout, pooling, dense, loss) against finite differences in Double")
    func cnnGradients() {
        let tape = Tape<Double>()
        let model = Self.smallCNN(on: tape, seed: 4)
        let x = randomTensor([2, 36], seed: 5)
        let weights = model.parameters.map(\.value)
        expectGradientsOf(parameters: weights) { tape, parameters in
            var generator = SeededGenerator(seed: 6)
            let h = conv2d(tape.constant(x).reshaped(to: [2, 1, 6, 6]), weight: parameters[0], bias: parameters[1], padding: (1, 1))
            let pooled = dropout(relu(h), probability: 0.3, using: &generator).maxPool2d(kernel: (2, 2)).reshaped(to: [2, 36])
            return softmaxCrossEntropy(logits: linear(pooled, weight: parameters[2], bias: parameters[3]), labels: [2, 0])
        }
        #expect(model.namedParameters.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
    }

    /// 6×6 images of a horizontal bar, a vertical bar or a diagonal, with noise.
    static func bars(count: Int, seed: UInt64) -> (features: Tensor<Float>, labels: [Int]) {
        var generator = SeededGenerator(seed: seed)
        var features: [Float] = []
        var labels: [Int] = []
        for i in 0..<count {
            let label = i % 3, at = Int(generator.next() % 6)
            for y in 0..<6 {
                for x in 0..<6 {
                    let on = label == 0 ? y == at : (label == 1 ? x == at : x == y)
                    features.append((on ? 1 : 0) + Float(generator.nextUnitDouble() * 0.3))
                }
            }
            labels.append(label)
        }
        return (Tensor(shape: [count, 36], scalars: features), labels)
    }

    @Test("a small CNN with dropout learns bars, on one worker and on two", arguments: [1, 2])
    func cnnLearns(workers: Int) {
        let (features, labels) = Self.bars(count: 300, seed: 7)
        var trainer = ClassifierTrainer(workers: workers, optimizer: .adam(beta1: 0.9, beta2: 0.999)) { (tape: Tape<Float>) in
            Self.smallCNN(on: tape, seed: 8, dropout: 0.2)
        }
        features.withUnsafeBufferPointer { f in
            labels.withUnsafeBufferPointer { l in
                for _ in 0..<60 {
                    for start in stride(from: 0, to: 300, by: 50) {
                        _ = trainer.step(features: UnsafeBufferPointer(rebasing: f[(start * 36)..<((start + 50) * 36)]),
                                         labels: UnsafeBufferPointer(rebasing: l[start..<(start + 50)]), learningRate: 0.01)
                    }
                }
            }
        }
        let test = Self.bars(count: 150, seed: 9)
        let accuracy = trainer.evaluate(test.features, labels: test.labels).accuracy
        #expect(accuracy >= 0.95, "\(workers) worker(s): test accuracy \(accuracy)")
    }

    @Test("probabilities on two workers equal those on one, and follow weights assigned to the first model")
    func parallelProbabilities() {
        let (features, _) = Self.bars(count: 250, seed: 14)
        let one = ClassifierTrainer(workers: 1, optimizer: .sgd) { (tape: Tape<Float>) in Self.smallCNN(on: tape, seed: 15) }
        let two = ClassifierTrainer(workers: 2, optimizer: .sgd) { (tape: Tape<Float>) in Self.smallCNN(on: tape, seed: 15) }
        #expect(two.probabilities(features, batchSize: 60) == one.probabilities(features, batchSize: 60))
        let other = Self.smallCNN(on: Tape<Float>(), seed: 16)
        for (source, target) in zip(other.parameters, two.model.parameters) { target.tape.assign(source.value, to: target) }
        for (source, target) in zip(other.parameters, one.model.parameters) { target.tape.assign(source.value, to: target) }
        #expect(two.probabilities(features, batchSize: 60) == one.probabilities(features, batchSize: 60))
    }

    @Test("dropout: inference is the identity; training drops about p and scales the rest by 1/(1-p), from its seed")
    func dropoutModes() {
        let tape = Tape<Double>()
        let x = tape.constant(Tensor(repeating: 2, shape: [10_000]))
        let layer = Dropout<Double>(probability: 0.25, seed: 1)
        #expect(layer(x, training: false).value == x.value)
        let dropped = layer(x, training: true).value.scalars
        let kept = dropped.filter { $0 != 0 }
        #expect(Swift.abs(Double(kept.count) / 10_000 - 0.75) < 0.02 && kept.allSatisfy { Swift.abs($0 - 2 / 0.75) < 1e-12 })
        #expect(Dropout<Double>(probability: 0.25, seed: 1)(x, training: true).value.scalars == dropped, "the seed fixes the mask")
        #expect(layer(x, training: true).value.scalars != dropped, "the next step draws another mask")
    }

    @Test("a Sequential's checkpoint loads into a fresh model of the same layers, and another architecture is refused by name")
    func checkpoint() throws {
        let tape = Tape<Float>()
        let model = Self.smallCNN(on: tape, seed: 10)
        let bytes = Checkpoint.encode(model.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: [:])
        let contents: CheckpointContents<Float> = try Checkpoint.decode(bytes, path: "cnn")
        let other = Self.smallCNN(on: Tape<Float>(), seed: 11)
        try Checkpoint.apply(contents, to: other.namedParameters, path: "cnn")
        let x = randomTensor([3, 36], seed: 12).converted(to: Float.self)
        #expect(other(other.parameters[0].tape.constant(x)).value == model(tape.constant(x)).value)
        var generator = SeededGenerator(seed: 13)
        let wider = Sequential<Float>([Reshape([1, 6, 6]), Conv2D(inputs: 1, outputs: 5, kernel: (3, 3), on: Tape<Float>(), using: &generator)])
        #expect(throws: CheckpointError.incompatible(path: "cnn", reason: "'layers.0.weight' has shape [4, 1, 3, 3], the model needs [5, 1, 3, 3]")) {
            try Checkpoint.apply(contents, to: wider.namedParameters, path: "cnn")
        }
    }
}

/// Random Double inputs from a fixed seed.
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, in: -1..<1, using: &generator)
}

/// Tape gradients of `function` against finite differences at `parameters`.
func expectGradientsOf(
    parameters: [Tensor<Double>], sourceLocation: SourceLocation = #_sourceLocation,
    _ function: (Tape<Double>, [Variable<Double>]) -> Variable<Double>
) {
    let result = GradientCheck.check(at: parameters, function)
    #expect(result.maxError < 1e-6, "expected gradients within 1e-6 of finite differences, got \(result)", sourceLocation: sourceLocation)
}

@Suite("Sequential architectures as text")
struct SequentialArchitectureTests {
    /// PyTorch's MNIST example CNN.
    static let pytorchExample = "reshape 1×28×28; conv2d 1→32 3×3; relu; conv2d 32→64 3×3; relu; maxpool 2×2; dropout 0.25; "
        + "flatten; dense 9216→128; relu; dropout 0.5; dense 128→10"

    @Test("the text reads back to the same layers, and the model's layers describe themselves the same way")
    func roundTrip() throws {
        var problem = ""
        let architecture = try #require(SequentialArchitecture(parsing: Self.pytorchExample, problem: &problem))
        #expect(architecture.description == Self.pytorchExample)
        #expect(try architecture.outputShape(forSample: [784]).get() == [10])
        let model: Sequential<Float> = architecture.makeModel(on: Tape<Float>(), seed: 1)
        #expect(model.layers.map(\.description).joined(separator: "; ") == Self.pytorchExample)
        #expect(model.parameters.map(\.shape) == [[32, 1, 3, 3], [32], [64, 32, 3, 3], [64], [9216, 128], [128], [128, 10], [10]])
        let options = "conv2d 4→6 5×3 stride 2,1 padding 1,2 dilation 2,2 groups 2 no-bias; avgpool 3×3 stride 1,1 padding 1,1"
        #expect(SequentialArchitecture(parsing: options, problem: &problem)?.description == options)
    }

    @Test("text that is not a layer, and layers that do not fit, are named", arguments: [
        ("conv2d 1→32 3x3", "'conv2d 1→32 3x3' is not a layer"),
        ("dense 784→10; softmax", "'softmax' is not a layer"),
        ("reshape 1×28×28; conv2d 3→8 3×3", "layer 1 (conv2d 3→8 3×3): takes [3, H, W] samples, gets [1, 28, 28]"),
        ("reshape 1×28×28; flatten; dense 700→10", "layer 2 (dense 700→10): takes samples of [700], gets [784]"),
        ("reshape 1×28×28; conv2d 1→4 30×3", "layer 1 (conv2d 1→4 30×3): the kernel spans 30, more than the padded input's 28"),
        ("reshape 1×28×28; flatten; dense 784→4611686018427387904", "more parameters than Int.max"),
        ("reshape 1×28×28; flatten; dense 784→99999999999", "more than this machine's"),
    ])
    func problems(_ text: String, _ expected: String) {
        var problem = ""
        if let architecture = SequentialArchitecture(parsing: text, problem: &problem) {
            if case let .failure(reason) = architecture.outputShape(forSample: [784]) { problem = reason.description }
        }
        #expect(problem.contains(expected), "expected '\(expected)', got '\(problem)'")
    }

    @Test("a checkpoint's layers are checked against its tensors before a model is built")
    func checkpointChecks() throws {
        var problem = ""
        let architecture = try #require(SequentialArchitecture(parsing: "reshape 1×28×28; conv2d 1→2 3×3; relu; flatten; dense 1352→10",
                                                               problem: &problem))
        let model: Sequential<Float> = architecture.makeModel(on: Tape<Float>(), seed: 3)
        var tensors = model.namedParameters.map { ($0.name, $0.parameter.value) }
        let good: CheckpointContents<Float> = try Checkpoint.decode(Checkpoint.encode(tensors, metadata: architecture.metadata), path: "c")
        #expect(try SequentialArchitecture(checkpoint: good, sample: [784], path: "c") == architecture)
        tensors[0].1 = Tensor(shape: [2, 1, 9], scalars: tensors[0].1.scalars)
        let bad: CheckpointContents<Float> = try Checkpoint.decode(Checkpoint.encode(tensors, metadata: architecture.metadata), path: "c")
        #expect(throws: CheckpointError.incompatible(path: "c", reason: "'layers.0.weight' has shape [2, 1, 9], but the layers need [2, 1, 3, 3]")) {
            _ = try SequentialArchitecture(checkpoint: bad, sample: [784], path: "c")
        }
    }
}
