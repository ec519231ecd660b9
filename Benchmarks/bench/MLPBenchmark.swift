import Datasets
import ExampleSupport
import Foundation
import NeuralNetworks

/// Training throughput of an MLP on the MNIST training set (plain SGD, shuffled minibatches),
/// the median over epochs, then the test accuracy so speed never hides a wrong result, and
/// the peak resident memory after the first and the last epoch.
func mlpBenchmark(_ options: CommandLineOptions) {
    let sizes: [Int] = options.list("sizes", "784,256,128,10", of: "layer widths") { $0 > 0 }
    guard sizes.count >= 2, sizes.first == 784, sizes.last == 10 else { fail("--sizes must run from 784 to 10, e.g. 784,256,128,10") }
    if let problem = MLP<Float>.problem(withSizes: sizes) { fail("--sizes: \(problem)") }
    let activation = options.parsed("activation", "relu", accepted: "relu, sigmoid, tanh, leaky-relu", Activation.init(name:))
    let initializer = options.parsed("init", "he", accepted: "zeros, normal[:sigma], xavier, he", Initializer.init(name:))
    let batch = options.int("batch", 128, in: 1...60_000)
    let epochs = options.int("epochs", 5, in: 1...1000)
    let learningRate = Float(options.double("lr", 0.1, in: 1e-9...100))
    ComputeSettings.maxThreads = options.int("threads", 1, in: 1...64)
    let data: MNIST<Float>
    do {
        data = try MNIST(directory: options.mnistDirectory())
    } catch {
        fail("\(error)")
    }
    // --parallel batch: the batch is split across tapes on their own threads (one hand-off per
    // step); --parallel gemm: one tape, each large matrix product split across threads.
    let parallel = options.string("parallel", "batch")
    guard ["batch", "gemm"].contains(parallel) else { fail("--parallel must be batch or gemm") }
    let threads = ComputeSettings.maxThreads
    var trainer = ClassifierTrainer(workers: parallel == "batch" ? threads : 1, optimizer: .sgd) { tape in
        MLP<Float>(sizes: sizes, activation: activation, initializer: initializer, on: tape, seed: 42)
    }
    var batches = Minibatches(of: data.training, size: batch, seed: 1)
    var sample = Sample()
    var peakAfterFirst = 0.0
    for epoch in 0..<epochs {
        batches.shuffle()
        let elapsed = seconds {
            for b in 0..<batches.count {
                _ = batches.withBatch(b) { features, labels, _ in
                    trainer.step(features: features, labels: labels, learningRate: learningRate)
                }
            }
        }
        sample.add(Double(data.training.count) / elapsed)
        if epoch == 0 { peakAfterFirst = peakResidentMiB() ?? .nan }
    }
    let peakAfterLast = peakResidentMiB() ?? .nan
    let name = "mlp \(sizes.map(String.init).joined(separator: "-")) \(activation) batch=\(batch) threads=\(threads)"
        + (threads > 1 && parallel == "gemm" ? " parallel=gemm" : "")
    print(sample.line("\(name) train", unit: "samples/s", digits: 0))
    let accuracy = trainer.evaluate(data.test.features, labels: data.test.labels).accuracy
    print("\(name) test accuracy: \(String(format: "%.2f", accuracy * 100)) % after \(epochs) epochs")
    print(String(format: "\(name) peak memory: %.1f MiB after epoch 1, %.1f MiB after epoch %d", peakAfterFirst, peakAfterLast, epochs))
    if ComputeSettings.usesAVX2 {
        // Against the FMA peak of as many cores as the run used, measured right after it.
        let peak = fmaPeak(threads: threads, runs: 3).median
        let achieved = sample.median * mlpFlopsPerSample(sizes) / 1e9
        print(String(format: "\(name) arithmetic: %.1f GFLOP/s = %.0f%% of the \(ComputeSettings.instructionSet) FMA peak of %d core%@ (%.1f GFLOP/s, measured now)",
                     achieved, 100 * achieved / peak, threads, threads == 1 ? "" : "s", peak))
    }
}
