import Autodiff

/// A model that maps `[batch, features]` to class logits, with the parameters it trains.
public protocol ClassifierModel<Scalar> {
    /// The scalar type.
    associatedtype Scalar: TensorScalar
    /// Logits `[batch, classes]` for a batch.
    func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar>
    /// Every trainable parameter.
    var parameters: [Variable<Scalar>] { get }
}

extension MLP: ClassifierModel {}

/// Trains and evaluates a classifier with softmax cross-entropy on one tape: the training
/// step and the batched evaluation every example shares.
public struct ClassifierTrainer<Model: ClassifierModel> {
    public typealias Scalar = Model.Scalar
    /// The tape holding the model's parameters.
    public let tape: Tape<Scalar>
    /// The model.
    public let model: Model
    /// The optimizer, with its state.
    public var optimizer: GradientDescent<Scalar>
    @usableFromInline let parameters: [Variable<Scalar>]

    /// A trainer for `model`, whose parameters live on `tape`.
    public init(model: Model, tape: Tape<Scalar>, optimizer: OptimizerKind, weightDecay: Double = 0) {
        self.tape = tape
        self.model = model
        parameters = model.parameters
        self.optimizer = optimizer.make(for: parameters, weightDecay: weightDecay)
    }

    /// One step on a batch (`rows × features` row-major, one label per row): forward, loss,
    /// backward, update. Returns the batch loss and how many rows the model (before the
    /// update) classified correctly.
    @discardableResult @inlinable
    public mutating func step(
        features: UnsafeBufferPointer<Scalar>, labels: UnsafeBufferPointer<Int>, learningRate: Scalar
    ) -> (loss: Scalar, correct: Int) {
        tape.reset()
        let rows = labels.count
        let x = tape.constant(shape: [rows, features.count / max(rows, 1)], copying: features)
        let logits = model(x)
        let loss = softmaxCrossEntropy(logits: logits, labels: labels)
        tape.backward(loss)
        optimizer.step(parameters, learningRate: learningRate)
        let correct = tape.withValue(of: logits) { z in
            let classes = z.count / max(rows, 1)
            var correct = 0
            for i in 0..<rows {
                var best = 0
                for j in 1..<classes where z[i * classes + j] > z[i * classes + best] { best = j }
                if best == labels[i] { correct += 1 }
            }
            return correct
        }
        return (loss.scalar, correct)
    }

    /// Class probabilities `[count, classes]` for every row of `features`, computed in batches
    /// without recording gradients.
    @inlinable
    public func probabilities(_ features: Tensor<Scalar>, batchSize: Int = 1000) -> Tensor<Scalar> {
        precondition(features.rank == 2, "probabilities: features \(features.shape) must be [count, features]")
        let (count, width) = (features.shape[0], features.shape[1])
        var rows: [Scalar] = []
        var classes = 0
        features.withUnsafeBufferPointer { all in
            var start = 0
            while start < count {
                let end = min(count, start + batchSize)
                tape.reset()
                let p = tape.withoutGradients {
                    model(tape.constant(shape: [end - start, width],
                                        copying: UnsafeBufferPointer(rebasing: all[(start * width)..<(end * width)]))).softmax()
                }
                classes = p.shape[1]
                p.tape.withValue(of: p) { rows.append(contentsOf: $0) }
                start = end
            }
        }
        tape.reset()
        return Tensor(shape: [count, classes], scalars: rows)
    }

    /// The predicted class of every row.
    @inlinable
    public func predictions(_ features: Tensor<Scalar>) -> [Int] { probabilities(features).argmaxRows() }

    /// The fraction of rows whose predicted class equals the label, and the mean
    /// cross-entropy loss.
    @inlinable
    public func evaluate(_ features: Tensor<Scalar>, labels: [Int]) -> (accuracy: Double, loss: Double) {
        let p = probabilities(features)
        let predicted = p.argmaxRows()
        let classes = p.shape[1]
        var correct = 0
        var loss = 0.0
        p.withUnsafeBufferPointer { probabilities in
            for (i, label) in labels.enumerated() {
                if predicted[i] == label { correct += 1 }
                loss -= Double.log(max(Double(probabilities[i * classes + label]), 1e-12))
            }
        }
        return (Double(correct) / Double(max(labels.count, 1)), loss / Double(max(labels.count, 1)))
    }
}
