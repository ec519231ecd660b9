import Autodiff
import CKernels

/// Shuffled minibatches of a ``LabeledSet`` gathered into one reused buffer, so an epoch
/// allocates nothing per batch.
///
/// ```swift
/// var batches = Minibatches(of: training, size: 128, seed: 1)
/// for epoch in 0..<epochs {
///     batches.shuffle()
///     for b in 0..<batches.count {
///         batches.withBatch(b) { features, labels, rows in … }
///     }
/// }
/// ```
public struct Minibatches<Scalar: TensorScalar> {
    /// The set batches are drawn from.
    public let set: LabeledSet<Scalar>
    /// Rows per batch (the last batch may be smaller unless `dropLast`).
    public let size: Int
    /// Whether a final short batch is skipped.
    public let dropLast: Bool
    private var order: [Int]
    private var generator: SeededGenerator
    private var featureBuffer: [Scalar]
    private var labelBuffer: [Int]
    /// The features as bytes, when the set is Float and every feature is b/255 exactly as the
    /// IDX loader makes it (MNIST, Fashion-MNIST): batches are then gathered from this copy,
    /// a quarter of the memory traffic of the float rows, with the same floats. Nil otherwise.
    private let bytes: [UInt8]?

    /// Batches of `size` rows in a seeded order (call ``shuffle()`` for a new order per epoch).
    public init(of set: LabeledSet<Scalar>, size: Int, seed: UInt64, dropLast: Bool = false) {
        Failure.check(size > 0, "Minibatches: batch size must be positive, got \(size)")
        self.set = set
        self.size = size
        self.dropLast = dropLast
        order = Array(0..<set.count)
        generator = SeededGenerator(seed: seed)
        featureBuffer = [Scalar](repeating: 0, count: size * set.featureCount)
        labelBuffer = [Int](repeating: 0, count: size)
        bytes = (set.features as? Tensor<Float>).flatMap(byteCopy(of:))
    }

    /// Whether batches are gathered from the byte copy.
    var gathersFromBytes: Bool { bytes != nil }

    /// The batch size (rows × features) from which a batch is gathered on several threads.
    static var parallelGatherElements: Int { 1 << 16 }

    /// The number of batches per epoch.
    public var count: Int { dropLast ? set.count / size : (set.count + size - 1) / size }

    /// A new random order of the samples.
    public mutating func shuffle() { Shuffle.shuffle(&order, using: &generator) }

    /// Calls `body` with batch `index`: features (`rows × featureCount`, row-major), labels,
    /// and the number of rows. The buffers are reused by the next call.
    public mutating func withBatch<R>(
        _ index: Int, _ body: (UnsafeBufferPointer<Scalar>, UnsafeBufferPointer<Int>, Int) throws -> R
    ) rethrows -> R {
        try withBatch(index, part: 0, of: 1, body)
    }

    /// Calls `body` with part `part` of `parts` of batch `index`, gathering only its rows: rows
    /// `part·n/parts..<(part+1)·n/parts` of the batch's `n` rows (a process's share in
    /// data-parallel training), their labels, and `n`.
    public mutating func withBatch<R>(
        _ index: Int, part: Int, of parts: Int, _ body: (UnsafeBufferPointer<Scalar>, UnsafeBufferPointer<Int>, Int) throws -> R
    ) rethrows -> R {
        Failure.check(index >= 0 && index < count, "Minibatches: batch \(index) of \(count)")
        Failure.check(parts >= 1 && (0..<parts).contains(part), "Minibatches: part \(part) of \(parts)")
        let batchRows = min(size, set.count - index * size)
        let start = index * size + part * batchRows / parts
        let rows = (part + 1) * batchRows / parts - part * batchRows / parts
        let width = set.featureCount
        let labels = set.labels
        set.features.withUnsafeBufferPointer { source in
            featureBuffer.withUnsafeMutableBufferPointer { out in
                order.withUnsafeBufferPointer { order in
                    // Random rows of a large set come from memory one miss after another: on
                    // several threads (ComputeSettings.maxThreads), more of them are in flight.
                    let threads = rows * width >= Self.parallelGatherElements ? ComputeSettings.maxThreads : 1
                    let addresses = (UInt(bitPattern: source.baseAddress), UInt(bitPattern: out.baseAddress), UInt(bitPattern: order.baseAddress))
                    let byteAddress = bytes.map { bytes in bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
                    let set = Int32(ComputeSettings.instructionSet.rawValue)
                    ComputeSettings.parallelParts(threads, threads: threads) { part in
                        let source = UnsafePointer<Scalar>(bitPattern: addresses.0)!
                        let out = UnsafeMutablePointer<Scalar>(bitPattern: addresses.1)!
                        let order = UnsafePointer<Int>(bitPattern: addresses.2)!
                        let (first, end) = (part * rows / threads, (part + 1) * rows / threads)
                        if let byteAddress, let bytes = UnsafePointer<UInt8>(bitPattern: byteAddress) {
                            ck_sgather_bytes(end - first, width, bytes, order + start + first,
                                             UnsafeMutableRawPointer(out + first * width).assumingMemoryBound(to: Float.self),
                                             1 / Float(255), set)
                            return
                        }
                        for r in first..<end {
                            (out + r * width).update(from: source + order[start + r] * width, count: width)
                        }
                    }
                }
            }
        }
        for r in 0..<rows { labelBuffer[r] = labels[order[start + r]] }
        return try featureBuffer.withUnsafeBufferPointer { features in
            try labelBuffer.withUnsafeBufferPointer { labels in
                try body(UnsafeBufferPointer(rebasing: features[0..<(rows * width)]),
                         UnsafeBufferPointer(rebasing: labels[0..<rows]), batchRows)
            }
        }
    }
}

/// Every feature as the byte b with Float(b)·(1/255) equal to it (sign included), or nil at the
/// first one that is not (in C, in the CPU's widest vectors: a one-time pass over the set).
func byteCopy(of features: Tensor<Float>) -> [UInt8]? {
    features.withUnsafeBufferPointer { x -> [UInt8]? in
        var out = [UInt8](repeating: 0, count: x.count)
        let exact = out.withUnsafeMutableBufferPointer { b in
            ck_sbytes_from_floats(x.count, x.baseAddress, b.baseAddress, 1 / Float(255),
                                  Int32(ComputeSettings.instructionSet.rawValue)) == 1
        }
        return exact ? out : nil
    }
}
