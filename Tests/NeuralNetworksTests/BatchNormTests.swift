import Autodiff
import Foundation
import Testing

@testable import NeuralNetworks

/// Batch normalisation: gradients through the batch statistics against finite differences,
/// the statistics it normalises by in each mode, and its running statistics.
@Suite("Batch normalisation")
struct BatchNormTests {
    /// Odd sizes, one channel, one row per channel, and spatial maps.
    static let shapes: [[Int]] = [[5, 3], [7, 1], [2, 4], [1, 3], [3, 2, 3, 5], [1, 3, 4, 1], [2, 1, 1, 1]]

    @Test("training mode: gradients of x, γ and β through the batch statistics match finite differences (Double)",
          arguments: shapes)
    func gradients(shape: [Int]) {
        let channels = shape[1]
        let x = randomTensor(shape, seed: UInt64(shape.reduce(7, *)))
        let gamma = randomTensor([channels], seed: 2).scalars.map { $0 + 1.5 }
        let weights = randomTensor(shape, seed: 3)  // a loss that weighs every output differently
        let result = GradientCheck.check(at: [x, Tensor(shape: [channels], scalars: gamma), randomTensor([channels], seed: 4)]) { tape, v in
            let y = BatchNorm<Double>.normalizedByBatch(v[0], weight: v[1], bias: v[2], epsilon: 1e-3).output
            return (y * tape.constant(weights)).sum()
        }
        #expect(result.maxError < 1e-6, "\(shape): \(result)")
    }

    @Test("training normalises each channel to mean β and standard deviation γ; the running statistics move by the momentum")
    func trainingStatistics() {
        let tape = Tape<Double>()
        let norm = BatchNorm<Double>(features: 3, momentum: 0.25, epsilon: 0, on: tape)
        tape.assign(Tensor(shape: [3], scalars: [2, 0.5, 1]), to: norm.weight)
        tape.assign(Tensor(shape: [3], scalars: [-1, 3, 0]), to: norm.bias)
        let x = randomTensor([4, 3, 2, 5], seed: 9)
        let y = norm(tape.constant(x), training: true).value
        for c in 0..<3 {
            let values = (0..<4).flatMap { n in (0..<10).map { x.scalars[(n * 3 + c) * 10 + $0] } }
            let outputs = (0..<4).flatMap { n in (0..<10).map { y.scalars[(n * 3 + c) * 10 + $0] } }
            let mean = values.reduce(0, +) / 40, variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 40
            let outMean = outputs.reduce(0, +) / 40
            let outDeviation = (outputs.map { ($0 - outMean) * ($0 - outMean) }.reduce(0, +) / 40).squareRoot()
            #expect(abs(outMean - [-1, 3, 0][c]) < 1e-12, "channel \(c): output mean \(outMean)")
            #expect(abs(outDeviation - [2, 0.5, 1][c]) < 1e-9, "channel \(c): output deviation \(outDeviation)")
            #expect(abs(norm.runningMean.value.scalars[c] - 0.25 * mean) < 1e-12, "channel \(c): running mean")
            #expect(abs(norm.runningVariance.value.scalars[c] - (0.75 + 0.25 * variance * 40 / 39)) < 1e-12,
                    "channel \(c): running variance \(norm.runningVariance.value.scalars[c]), expected the unbiased batch variance moved in")
        }
    }

    @Test("inference normalises by the running statistics and leaves them as they are")
    func inference() {
        let tape = Tape<Double>()
        let norm = BatchNorm<Double>(features: 2, on: tape)
        norm.runningMean.value = Tensor(shape: [2], scalars: [0.5, -2])
        norm.runningVariance.value = Tensor(shape: [2], scalars: [4, 0.25])
        tape.assign(Tensor(shape: [2], scalars: [3, -1]), to: norm.weight)
        let x = randomTensor([5, 2], seed: 1)
        let y = norm(tape.constant(x), training: false).value
        for i in 0..<10 {
            let c = i % 2
            let expected = (x.scalars[i] - [0.5, -2][c]) / ([4, 0.25][c] + 1e-5).squareRoot() * [3, -1][c]
            #expect(abs(y.scalars[i] - expected) < 1e-12, "element \(i): \(y.scalars[i]), expected \(expected)")
        }
        #expect(norm.runningMean.value.scalars == [0.5, -2] && norm.runningVariance.value.scalars == [4, 0.25])
    }

    @Test("in a Sequential model: buffers named as the parameters, and a checkpoint carries them back")
    func sequentialCheckpoint() throws {
        func model(_ tape: Tape<Float>, seed: UInt64 = 1) -> Sequential<Float> {
            var generator = SeededGenerator(seed: seed)
            return Sequential([
                Reshape([1, 4, 4]),
                Conv2D(inputs: 1, outputs: 2, kernel: (3, 3), padding: (1, 1), on: tape, using: &generator),
                BatchNorm(features: 2, on: tape), ActivationLayer(.relu), Reshape.flatten,
                Dense(inputs: 32, outputs: 3, initializer: .he, on: tape, using: &generator),
            ])
        }
        let tape = Tape<Float>()
        let trained = model(tape)
        #expect(trained.namedBuffers.map(\.name) == ["layers.1.running_mean", "layers.1.running_var"])
        _ = trained(tape.constant(randomTensor([6, 16], seed: 5).converted(to: Float.self)), training: true)
        let path = temporaryPath("batchnorm.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(trained.namedTensors, to: path)
        let fresh = model(Tape<Float>(), seed: 2)
        let contents: CheckpointContents<Float> = try Checkpoint.read(from: path)
        let lackingPath = temporaryPath("batchnorm-lacking.safetensors")
        defer { try? FileManager.default.removeItem(atPath: lackingPath) }
        try Checkpoint.save(trained.namedTensors.filter { $0.name != "layers.1.running_var" }, to: lackingPath)
        let lacking: CheckpointContents<Float> = try Checkpoint.read(from: lackingPath)
        let untouched = fresh.namedParameters.map(\.parameter.value)
        #expect(throws: CheckpointError.self, "a checkpoint without a running variance was applied") {
            try Checkpoint.apply(lacking, to: fresh, path: path)
        }
        #expect(fresh.namedParameters.map(\.parameter.value) == untouched, "a refused checkpoint changed the weights")
        try Checkpoint.apply(contents, to: fresh, path: path)
        for (a, b) in zip(trained.namedParameters, fresh.namedParameters) {
            #expect(a.parameter.value == b.parameter.value, "\(a.name) was not restored")
        }
        for (a, b) in zip(trained.namedBuffers, fresh.namedBuffers) {
            #expect(a.buffer.value == b.buffer.value, "\(a.name) was not restored")
        }
        #expect(trained.namedBuffers[0].buffer.value.scalars != [0, 0], "the running mean never moved")
    }

    @Test("as text: parsed, described back, checked against its input, and its checkpoint must carry the running statistics")
    func architecture() throws {
        var problem = ""
        let text = "reshape 1×4×4; conv2d 1→2 3×3 padding 1,1; batchnorm 2; relu; flatten; dense 32→3; batchnorm 3"
        let parsed = try #require(SequentialArchitecture(parsing: text, problem: &problem), "\(problem)")
        #expect(parsed.description == text)
        #expect(parsed.outputShape(forSample: [16]) == .success([3]))
        let wrong = try #require(SequentialArchitecture(parsing: "reshape 1×4×4; conv2d 1→2 3×3; batchnorm 3", problem: &problem))
        guard case let .failure(reason) = wrong.outputShape(forSample: [16]) else {
            Issue.record("batchnorm 3 after 2 channels was accepted")
            return
        }
        #expect(reason.description.contains("layer 2 (batchnorm 3): takes [3] or [3, H, W] samples, gets [2, 2, 2]"), "\(reason)")
        let tape = Tape<Float>()
        let model: Sequential<Float> = parsed.makeModel(on: tape, seed: 1)
        #expect(model.namedBuffers.map(\.name) == ["layers.1.running_mean", "layers.1.running_var",
                                                   "layers.3.running_mean", "layers.3.running_var"])
        let path = temporaryPath("batchnorm-architecture.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = model.namedParameters.map { ($0.name, $0.parameter.value) }
        try Checkpoint.save(weights + model.namedBuffers.map { ($0.name, $0.buffer.value) }, metadata: parsed.metadata, to: path)
        let contents: CheckpointContents<Float> = try Checkpoint.read(from: path)
        #expect(try SequentialArchitecture(checkpoint: contents, sample: [16], path: path) == parsed)
        try Checkpoint.save(weights, metadata: parsed.metadata, to: path)
        expectCheckpointError("need a tensor 'layers.1.running_mean'") {
            _ = try SequentialArchitecture(checkpoint: try Checkpoint.read(from: path) as CheckpointContents<Float>, sample: [16], path: path)
        }
    }
}
