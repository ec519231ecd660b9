// Run under mpirun (each process runs every test in the same order: `.serialized`, and the
// test binary with --no-parallel); alone, each is a job of one process. See .ci/run.
import Autodiff
import DataParallel
import MessagePassing
import NeuralNetworks
import Testing

/// The MPI job's processes, started once.
let world: Communicator = { try! Communicator.world() }()

@Suite(.serialized)
struct ReplicaTests {
    /// Rank r's numbers: different in every rank and every element, awkward to round.
    static func numbers(rank: Int, count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed &+ UInt64(rank) &* 7919)
        return (0..<count).map { _ in generator.nextNormal() * 1e3 + 1 / 3 }
    }

    @Test func collectives() throws {
        #expect(world.size >= 1 && (0..<world.size).contains(world.rank))
        // Broadcast: rank 0's numbers everywhere.
        var values = Self.numbers(rank: world.rank, count: 5, seed: 1)
        try values.withUnsafeMutableBufferPointer { try world.broadcast($0) }
        #expect(values == Self.numbers(rank: 0, count: 5, seed: 1))
        // Gather: every rank's numbers in rank order.
        let mine = Self.numbers(rank: world.rank, count: 3, seed: 2)
        var all = [Double](repeating: .nan, count: 3 * world.size)
        try mine.withUnsafeBufferPointer { send in try all.withUnsafeMutableBufferPointer { try world.gather(send, into: $0) } }
        #expect(all == (0..<world.size).flatMap { Self.numbers(rank: $0, count: 3, seed: 2) })
        // A sum of integers is exact in any order.
        var counts: [Int64] = [Int64(world.rank), 1]
        try counts.withUnsafeMutableBufferPointer { try world.sum($0) }
        #expect(counts == [Int64(world.size * (world.size - 1) / 2), Int64(world.size)])
        var wrong = [Double](repeating: 0, count: 2)
        #expect(throws: MessagePassingError.self) {
            try mine.withUnsafeBufferPointer { send in try wrong.withUnsafeMutableBufferPointer { try world.gather(send, into: $0) } }
        }
    }

    /// The sum in rank order gives the bits of adding every rank's buffer in rank order here,
    /// for counts below, at and above the number of ranks.
    @Test(arguments: [1, 2, 3, 7, 1000, 100_003])
    func sumInRankOrder(count: Int) throws {
        var buffer = Self.numbers(rank: world.rank, count: count, seed: UInt64(count))
        try buffer.withUnsafeMutableBufferPointer { try world.sumInRankOrder($0) }
        var expected = Self.numbers(rank: 0, count: count, seed: UInt64(count))
        for r in 1..<max(world.size, 1) {
            for (i, x) in Self.numbers(rank: r, count: count, seed: UInt64(count)).enumerated() { expected[i] += x }
        }
        let same = zip(buffer, expected).allSatisfy { $0.bitPattern == $1.bitPattern }
        #expect(same, "rank \(world.rank): the sum over \(world.size) ranks differs from the rank-order sum")
        var floats = Self.numbers(rank: world.rank, count: count, seed: 9).map(Float.init)
        try floats.withUnsafeMutableBufferPointer { try world.sumInRankOrder($0) }
        var floatsExpected = Self.numbers(rank: 0, count: count, seed: 9).map(Float.init)
        for r in 1..<max(world.size, 1) {
            for (i, x) in Self.numbers(rank: r, count: count, seed: 9).enumerated() { floatsExpected[i] += Float(x) }
        }
        #expect(zip(floats, floatsExpected).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    /// The addend sum (shared memory on one machine) gives the rank-order bits too, through a
    /// buffer grown once, and a sum stays readable while the next addend is written.
    @Test func addends() throws {
        var previous: (sum: UnsafeBufferPointer<Double>, expected: [Double])?
        for (round, count) in [100_003, 5, 1000, 3, 77].enumerated() {
            let addend = try world.addend(count: count, of: Double.self)
            let mine = Self.numbers(rank: world.rank, count: count, seed: UInt64(round))
            _ = addend.update(from: mine)
            // The sum before this one must still be intact (each process wrote its next addend).
            try world.barrier()
            if let previous {
                #expect(zip(previous.sum, previous.expected).allSatisfy { $0.bitPattern == $1.bitPattern },
                        "rank \(world.rank): the previous sum changed when the next addends were written")
            }
            let sum = try world.sumAddends(count: count, of: Double.self)
            var expected = Self.numbers(rank: 0, count: count, seed: UInt64(round))
            for r in 1..<max(world.size, 1) {
                for (i, x) in Self.numbers(rank: r, count: count, seed: UInt64(round)).enumerated() { expected[i] += x }
            }
            #expect(zip(sum, expected).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "rank \(world.rank): \(count) addends summed over \(world.size) ranks differ from the rank-order sum")
            previous = (sum, expected)
        }
    }

    /// P processes with one worker each give the weights one process gets with P workers, bit
    /// for bit (Float and Double, SGD and Adam), and every process ends with the same weights.
    @Test(arguments: [OptimizerKind.sgd, .adam(beta1: 0.9, beta2: 0.999)])
    func trainerMatchesThreads(optimizer: OptimizerKind) throws {
        try trainerMatchesThreads(Float.self, optimizer: optimizer)
        try trainerMatchesThreads(Double.self, optimizer: optimizer)
    }

    func trainerMatchesThreads<S: TensorScalar & MessageElement>(_: S.Type, optimizer: OptimizerKind) throws {
        let (ranks, rank) = (world.size, world.rank)
        func model(on tape: Tape<S>) -> MLP<S> {
            MLP(sizes: [12, 9, 4], activation: .relu, initializer: .he, on: tape, seed: 5)
        }
        var local = ClassifierTrainer(workers: ranks, optimizer: optimizer, makeModel: model)
        var replica = ClassifierTrainer(workers: 1, optimizer: optimizer, makeModel: model)
        // Rank 0's initial weights everywhere, as a job starts (here they are equal anyway).
        let group = ProcessGroup<S>(world)
        try group.broadcast(replica.model.parameters)
        replica.replicaGroup = group
        var generator = SeededGenerator(seed: 11)
        for (step, rows) in [37, 2 * ranks + 1, 64].enumerated() {
            let features = (0..<(rows * 12)).map { _ in S(generator.nextNormal()) }
            let labels = (0..<rows).map { _ in generator.nextIndex(below: 4) }
            let rate = S(0.05)
            let expected = features.withUnsafeBufferPointer { f in
                labels.withUnsafeBufferPointer { l in local.step(features: f, labels: l, learningRate: rate) }
            }
            let mine = ClassifierTrainer<MLP<S>>.rows(ofRank: rank, of: ranks, batchRows: rows)
            let result = features.withUnsafeBufferPointer { f in
                labels.withUnsafeBufferPointer { l in
                    replica.step(features: UnsafeBufferPointer(rebasing: f[(mine.lowerBound * 12)..<(mine.upperBound * 12)]),
                                 labels: UnsafeBufferPointer(rebasing: l[mine]), batchRows: rows, learningRate: rate)
                }
            }
            #expect(result.correct == expected.correct, "step \(step): correct \(result.correct), one process \(expected.correct)")
            #expect(result.loss == expected.loss, "step \(step): loss \(result.loss), one process \(expected.loss)")
        }
        for (a, b) in zip(local.model.parameters, replica.model.parameters) {
            let same = zip(a.value.scalars, b.value.scalars).allSatisfy { $0 == $1 }
            #expect(same, "rank \(rank) of \(ranks), \(S.self): weights \(a.shape) differ from one process with \(ranks) workers")
        }
        // Each rank kept the optimizer's state of its share; gathered, it is one process's.
        replica.gatherOptimizerState()
        let names = local.model.parameters.indices.map { "p\($0)" }
        let shapes = local.model.parameters.map(\.shape)
        let expectedState = local.optimizer.state(names: names, shapes: shapes).tensors
        let gatheredState = replica.optimizer.state(names: names, shapes: shapes).tensors
        #expect(expectedState.count == gatheredState.count)
        for (a, b) in zip(expectedState, gatheredState) {
            #expect(a.0 == b.0 && zip(a.1.scalars, b.1.scalars).allSatisfy { $0 == $1 },
                    "rank \(rank), \(S.self): optimizer state \(a.0) differs from one process's after gathering")
        }
        // And every rank holds the same weights as rank 0.
        var weights = replica.model.parameters.flatMap(\.value.scalars)
        let own = weights
        try weights.withUnsafeMutableBufferPointer { try world.broadcast($0) }
        #expect(weights == own, "rank \(rank): weights differ from rank 0's")
    }

    /// A user's own loss: each rank's shard of a Gaussian log-likelihood; the summed gradients
    /// are the gradient of the whole sum.
    @Test func userLossGradients() throws {
        let group = ProcessGroup<Double>(world)
        let tape = Tape<Double>()
        let mean = tape.parameter(Tensor(shape: [2], scalars: [0.5, -1]))
        let all = (0..<world.size).map { Self.numbers(rank: $0, count: 6, seed: 3).map { $0 / 1e3 } }
        func negativeLogLikelihood(_ shard: [Double]) -> Variable<Double> {
            let x = tape.constant(Tensor(shape: [3, 2], scalars: shard))
            return ((x - mean).squared().sum() * 0.5)
        }
        tape.backward(negativeLogLikelihood(all[world.rank]))
        try group.sumGradients(of: [mean], bucketElements: 1)
        let gradient = mean.gradient.scalars
        // d/dμ Σ (x − μ)²/2 = Σ (μ − x), over every shard.
        var expected = [0.0, 0.0]
        for shard in all { for (i, x) in shard.enumerated() { expected[i % 2] += [0.5, -1][i % 2] - x } }
        for i in 0..<2 { #expect(abs(gradient[i] - expected[i]) <= 1e-12 * max(1, abs(expected[i])), "∂/∂μ\(i): \(gradient[i]), expected \(expected[i])") }
    }

    /// Ranks started with other settings are named, in every rank.
    @Test func mismatchedSettings() throws {
        let group = ProcessGroup<Float>(world)
        try group.checkSameSettings("784-16-10 relu, batch 128")
        guard world.size > 1 else { return }
        let error = #expect(throws: SettingsMismatch.self) {
            try group.checkSameSettings(world.rank == world.size - 1 ? "784-32-10 relu" : "784-16-10 relu")
        }
        #expect(error?.rank == world.size - 1)
        #expect(error?.description.contains("rank \(world.size - 1) of \(world.size) was started with other settings") == true)
    }
}
