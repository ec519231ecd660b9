import Autodiff

/// Samples as rows of a feature matrix with one class label each.
public struct LabeledSet<Scalar: TensorScalar>: Sendable {
    /// `[count, features]`.
    public let features: Tensor<Scalar>
    /// One class index per row.
    public let labels: [Int]
    /// The number of classes labels are drawn from.
    public let classes: Int

    /// A set from a feature matrix and its labels.
    /// - Precondition: one label per row, each in `0..<classes`.
    public init(features: Tensor<Scalar>, labels: [Int], classes: Int) {
        Failure.check(features.rank == 2, "LabeledSet: features \(features.shape) must be [count, features]")
        Failure.check(features.shape[0] == labels.count,
                     "LabeledSet: \(labels.count) labels for \(features.shape[0]) rows")
        Failure.check(labels.allSatisfy { (0..<classes).contains($0) }, "LabeledSet: a label is outside 0..<\(classes)")
        self.features = features
        self.labels = labels
        self.classes = classes
    }

    /// The number of samples.
    public var count: Int { labels.count }
    /// The length of one feature row.
    public var featureCount: Int { features.shape[1] }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledSet {
        let width = featureCount
        let rows = Tensor<Scalar>(shape: [indices.count, width]) { out in
            features.withUnsafeBufferPointer { source in
                for (row, i) in indices.enumerated() {
                    (out.baseAddress! + row * width).update(from: source.baseAddress! + i * width, count: width)
                }
            }
        }
        return LabeledSet(features: rows, labels: indices.map { labels[$0] }, classes: classes)
    }

    /// Splits off the last `fraction` of a seeded shuffle as a validation set:
    /// `(training, validation)`.
    public func split(validationFraction fraction: Double, seed: UInt64) -> (LabeledSet, LabeledSet) {
        Failure.check((0...1).contains(fraction), "split: fraction \(fraction) is outside [0, 1]")
        var generator = SeededGenerator(seed: seed)
        let order = Shuffle.permutation(count, using: &generator)
        let kept = Self.trainingCount(of: count, holdingOut: fraction)
        return (subset(Array(order[..<kept])), subset(Array(order[kept...])))
    }

    /// How many of `count` samples ``split(validationFraction:seed:)`` keeps for training when
    /// it holds out `fraction` of them.
    public static func trainingCount(of count: Int, holdingOut fraction: Double) -> Int {
        count - Int((Double(count) * fraction).rounded())
    }

    /// Only the samples whose label is in `kept`, relabelled 0, 1, … in the order of `kept`
    /// (e.g. `[3, 8]` turns a digit set into a binary 3-vs-8 task).
    public func selectingClasses(_ kept: [Int]) -> LabeledSet {
        let indices = labels.indices.filter { kept.contains(labels[$0]) }
        let picked = subset(indices)
        return LabeledSet(features: picked.features, labels: picked.labels.map { kept.firstIndex(of: $0)! },
                          classes: kept.count)
    }

    /// The labels as one-hot rows, `[count, classes]`.
    public func oneHotLabels() -> Tensor<Scalar> { OneHot.encode(labels, classes: classes) }
}

/// One-hot encoding of class labels.
public enum OneHot {
    /// `[labels.count, classes]` with a 1 at each row's label.
    public static func encode<S: TensorScalar>(_ labels: [Int], classes: Int) -> Tensor<S> {
        Tensor(shape: [labels.count, classes]) { out in
            out.initialize(repeating: 0)
            for (row, label) in labels.enumerated() {
                Failure.check((0..<classes).contains(label), "oneHot: label \(label) at row \(row) is outside 0..<\(classes)")
                out[row * classes + label] = 1
            }
        }
    }
}

/// Seeded shuffling.
public enum Shuffle {
    /// A uniformly random permutation of 0..<count (Fisher-Yates).
    public static func permutation(_ count: Int, using generator: inout SeededGenerator) -> [Int] {
        var order = Array(0..<count)
        shuffle(&order, using: &generator)
        return order
    }

    /// Shuffles `values` in place (Fisher-Yates), the same way on every platform.
    public static func shuffle<T>(_ values: inout [T], using generator: inout SeededGenerator) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, generator.nextIndex(below: i + 1))
        }
    }
}
