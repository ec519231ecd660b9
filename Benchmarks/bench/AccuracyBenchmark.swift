import Autodiff
import ExampleSupport

/// The fused losses, each on [rows, 2] inputs.
enum AccuracyLoss: String, CaseIterable {
    case meanSquaredError, binaryCrossEntropy, binaryCrossEntropyLogits = "binaryCrossEntropy(logits:)"
    case crossEntropy, crossEntropyLabels = "crossEntropy(labels:)"
    case softmaxCrossEntropyLabels = "softmaxCrossEntropy(labels:)", softmaxCrossEntropyTargets = "softmaxCrossEntropy(targets:)"

    func value<T: TensorScalar>(_ a: Tensor<Float>, _ b: Tensor<Float>, labels: [Int], _: T.Type) -> Double {
        let tape = Tape<T>()
        let (x, y) = (tape.constant(a.converted(to: T.self)), tape.constant(b.converted(to: T.self)))
        let result: Variable<T> = switch self {
        case .meanSquaredError: Autodiff.meanSquaredError(x, y)
        case .binaryCrossEntropy: Autodiff.binaryCrossEntropy(sigmoid(x), y)
        case .binaryCrossEntropyLogits: Autodiff.binaryCrossEntropy(logits: x, targets: y)
        case .crossEntropy: Autodiff.crossEntropy(x.softmax(alongAxis: 1), y)
        case .crossEntropyLabels: Autodiff.crossEntropy(x.softmax(alongAxis: 1), labels: labels)
        case .softmaxCrossEntropyLabels: Autodiff.softmaxCrossEntropy(logits: x, labels: labels)
        case .softmaxCrossEntropyTargets: Autodiff.softmaxCrossEntropy(logits: x, targets: y)
        }
        return Double(result.scalar)
    }
}

/// Each fused loss in Float against the same loss in Double on the same inputs (10⁷ elements
/// by default): one line per loss,
/// `accuracy <loss> elements=<n>: relative error X (target 1e-5: met|missed)`.
func accuracyBenchmark(_ options: CommandLineOptions) {
    let rows = options.int("rows", 5_000_000, in: 1...100_000_000)
    var generator = SeededGenerator(seed: 22)
    let a = Tensor<Float>.randomUniform([rows, 2], in: -3..<3, using: &generator)
    let b = Tensor<Float>.randomUniform([rows, 2], in: 0..<1, using: &generator)
    let labels = (0..<rows).map { $0 % 2 }
    for loss in AccuracyLoss.allCases {
        let single = loss.value(a, b, labels: labels, Float.self)
        let double = loss.value(a, b, labels: labels, Double.self)
        let error = abs(single - double) / abs(double)
        print("accuracy \(loss.rawValue) elements=\(2 * rows): relative error \(error) (target 1e-5: \(error <= 1e-5 ? "met" : "missed"))")
    }
}
