import Autodiff
import CKernels
import Testing

@testable import Datasets

@Suite("Splits, shuffles, minibatches, one-hot")
struct DataPreparationTests {
    let set = LabeledSet<Float>(
        features: Tensor(shape: [10, 2], scalars: (0..<20).map(Float.init)), labels: (0..<10).map { $0 % 3 }, classes: 3)

    @Test("a split partitions the samples, the same way for the same seed")
    func split() {
        let (train, validation) = set.split(validationFraction: 0.3, seed: 5)
        #expect(train.count == 7 && validation.count == 3)
        let firsts = (train.features.scalars + validation.features.scalars).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        #expect(Set(firsts) == Set((0..<10).map { Float($0 * 2) }), "every sample lands in exactly one part")
        let again = set.split(validationFraction: 0.3, seed: 5)
        #expect(again.1.labels == validation.labels && again.1.features == validation.features)
        let other = set.split(validationFraction: 0.3, seed: 6)
        #expect(other.0.features != train.features, "another seed gives another split")
    }

    @Test("a permutation holds every index once and depends only on the seed")
    func permutation() {
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let p = Shuffle.permutation(1000, using: &g1)
        #expect(p.sorted() == Array(0..<1000))
        #expect(p == Shuffle.permutation(1000, using: &g2))
        #expect(p != Array(0..<1000))
    }

    @Test("minibatches cover every sample once per epoch, rows kept with their labels")
    func minibatches() {
        var batches = Minibatches(of: set, size: 4, seed: 3)
        #expect(batches.count == 3)
        batches.shuffle()
        var seen: [Float] = []
        for b in 0..<batches.count {
            batches.withBatch(b) { features, labels, rows in
                #expect(rows == (b < 2 ? 4 : 2))
                for r in 0..<rows {
                    let first = features[r * 2]
                    #expect(features[r * 2 + 1] == first + 1)
                    #expect(labels[r] == Int(first / 2) % 3, "label travels with its row")
                    seen.append(first)
                }
            }
        }
        #expect(seen.sorted() == (0..<10).map { Float($0 * 2) })
        #expect(Minibatches(of: set, size: 4, seed: 3, dropLast: true).count == 2)
    }

    @Test("the parts of a batch (a process's share in data-parallel training) are its rows in order", arguments: [1, 2, 3, 5])
    func batchParts(parts: Int) {
        var whole = Minibatches(of: set, size: 4, seed: 3)
        var split = Minibatches(of: set, size: 4, seed: 3)
        whole.shuffle()
        split.shuffle()
        for b in 0..<whole.count {
            let (features, labels) = whole.withBatch(b) { f, l, _ in (Array(f), Array(l)) }
            var (partFeatures, partLabels) = ([Float](), [Int]())
            for part in 0..<parts {
                split.withBatch(b, part: part, of: parts) { f, l, batchRows in
                    #expect(batchRows == labels.count, "part \(part) of \(parts) of batch \(b): \(batchRows) rows, expected \(labels.count)")
                    #expect(l.count == (part + 1) * labels.count / parts - part * labels.count / parts)
                    partFeatures += f
                    partLabels += l
                }
            }
            #expect(partFeatures == features && partLabels == labels, "batch \(b) in \(parts) parts")
        }
    }

    @Test("a set of bytes/255 is gathered from a byte copy, bit for bit the float rows; any other value falls back",
          arguments: [1, 17, 37, 784])
    func byteGather(width: Int) {
        var generator = SeededGenerator(seed: UInt64(width))
        let count = 301
        let raw = (0..<(count * width)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let features = Tensor<Float>(shape: [count, width], scalars: raw.map { Float($0) * (1 / Float(255)) })
        // Each row's label is its index, so a gathered row can be checked against its source.
        let labels = Array(0..<count)
        var batches = Minibatches(of: LabeledSet(features: features, labels: labels, classes: count), size: 128, seed: 5)
        #expect(batches.gathersFromBytes, "features that are bytes/255 must be gathered from bytes")
        batches.shuffle()
        var mismatches = 0
        for b in 0..<batches.count {
            batches.withBatch(b) { rows, labels, count in
                for r in 0..<count where !rows[(r * width)..<((r + 1) * width)].elementsEqual(
                    features.scalars[(labels[r] * width)..<((labels[r] + 1) * width)], by: { $0.bitPattern == $1.bitPattern }) {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) gathered rows differ from their source rows in some bit")
        for odd: Float in [-0.0, 0.5 / 255, 2, .nan] {
            var scalars = features.scalars
            scalars[scalars.count / 2] = odd
            let other = Minibatches(of: LabeledSet(features: Tensor(shape: [count, width], scalars: scalars), labels: labels,
                                                   classes: count), size: 128, seed: 5)
            #expect(!other.gathersFromBytes, "a feature \(odd) is no byte/255: the float rows must be gathered")
        }
    }

    @Test("the byte gather gives (float)b · (1/255) on every kernel set the CPU runs, every tail length")
    func byteGatherKernel() {
        let width = 61, rows = 5
        let source = (0..<(width * 9)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let order = [8, 0, 3, 3, 7]
        let scale = 1 / Float(255)
        let expected = order.flatMap { r in (0..<width).map { Float(source[r * width + $0]) * scale } }
        for set in ComputeSettings.supportedInstructionSets {
            var out = [Float](repeating: .nan, count: rows * width)
            ck_sgather_bytes(rows, width, source, order, &out, scale, Int32(set.rawValue))
            #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "\(set)")
        }
        // The check that turns floats back into bytes: every byte/255 passes, anything else fails.
        let floats = (0..<70).map { Float(UInt8(truncatingIfNeeded: $0 &* 53)) * scale }
        for set in ComputeSettings.supportedInstructionSets {
            var bytes = [UInt8](repeating: 0, count: floats.count)
            #expect(ck_sbytes_from_floats(floats.count, floats, &bytes, scale, Int32(set.rawValue)) == 1, "\(set)")
            #expect(bytes == (0..<70).map { UInt8(truncatingIfNeeded: $0 &* 53) }, "\(set)")
            for (position, odd) in [(3, Float(-0.0)), (20, 0.5 / 255), (40, 2), (69, .nan), (5, -1 / Float(255))] {
                var bad = floats
                bad[position] = odd
                #expect(ck_sbytes_from_floats(bad.count, bad, &bytes, scale, Int32(set.rawValue)) == 0,
                        "\(set): \(odd) at \(position) must be refused")
            }
        }
    }

    @Test("one-hot rows and class selection")
    func oneHot() {
        let encoded: Tensor<Float> = OneHot.encode([2, 0], classes: 3)
        #expect(encoded == Tensor(shape: [2, 3], scalars: [0, 0, 1, 1, 0, 0]))
        let binary = set.selectingClasses([2, 1])
        #expect(binary.classes == 2)
        #expect(binary.labels == [1, 0, 1, 0, 1, 0])
    }
}
