import Autodiff
import Datasets
import Testing

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

    @Test("one-hot rows and class selection")
    func oneHot() {
        let encoded: Tensor<Float> = OneHot.encode([2, 0], classes: 3)
        #expect(encoded == Tensor(shape: [2, 3], scalars: [0, 0, 1, 1, 0, 0]))
        let binary = set.selectingClasses([2, 1])
        #expect(binary.classes == 2)
        #expect(binary.labels == [1, 0, 1, 0, 1, 0])
    }
}
