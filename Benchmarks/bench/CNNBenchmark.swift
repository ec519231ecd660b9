import Datasets
import ExampleSupport
import Foundation
import NeuralNetworks

/// PyTorch's MNIST example CNN, as `Benchmarks/torch_cnn.py` runs it beside us.
let pytorchExampleCNN = "reshape 1×28×28; conv2d 1→32 3×3; relu; conv2d 32→64 3×3; relu; maxpool 2×2; dropout 0.25; "
    + "flatten; dense 9216→128; relu; dropout 0.5; dense 128→10"

/// Training throughput of PyTorch's MNIST example CNN (batch 64, Adam) on the MNIST training
/// set: `cnn threads=<t> train: median … samples/s (min …, max …, n=…)` over rounds of
/// `--batches` minibatches, and the share of the FMA peak it reaches (FLOPs per sample from the
/// shapes: every product's multiply-adds, three products per layer in training).
func cnnBenchmark(_ options: CommandLineOptions) {
    let batch = options.int("batch", 64, in: 1...60_000)
    let batchesPerRound = options.int("batches", 100, in: 1...100_000)
    let rounds = options.int("runs", 5, in: 1...1000)
    ComputeSettings.maxThreads = options.int("threads", 1, in: 1...64)
    let threads = ComputeSettings.maxThreads
    let parallel = options.string("parallel", "gemm")
    guard ["batch", "gemm"].contains(parallel) else { fail("--parallel must be batch or gemm") }
    var problem = ""
    guard let architecture = SequentialArchitecture(parsing: pytorchExampleCNN, problem: &problem) else { fail(problem) }
    let data: MNIST<Float>
    do { data = try MNIST(directory: options.mnistDirectory()) } catch { fail("\(error)") }
    var trainer = ClassifierTrainer(workers: parallel == "batch" ? threads : 1, optimizer: .adam(beta1: 0.9, beta2: 0.999)) {
        (tape: Tape<Float>) in architecture.makeModel(on: tape, seed: 1)
    }
    var batches = Minibatches(of: data.training, size: batch, seed: 1)
    batches.shuffle()
    var sample = Sample()
    var next = 0
    for round in 0...rounds {
        let elapsed = seconds {
            for _ in 0..<batchesPerRound {
                if next == batches.count { (next, _) = (0, batches.shuffle()) }
                _ = batches.withBatch(next) { features, labels, _ in trainer.step(features: features, labels: labels, learningRate: 0.001) }
                next += 1
            }
        }
        // The first round warms the arenas and the caches.
        if round > 0 { sample.add(Double(batchesPerRound * batch) / elapsed) }
    }
    let name = "cnn threads=\(threads)" + (threads > 1 && parallel == "batch" ? " parallel=batch" : "")
    print(sample.line("\(name) train", unit: "samples/s", digits: 0))
    if ComputeSettings.usesAVX2 {
        let peak = fmaPeak(threads: threads, runs: 3).median
        let achieved = sample.median * cnnFlopsPerSample() / 1e9
        print(String(format: "\(name) peak share: median %.0f%% (%.1f GFLOP/s of %.1f, %.1f MFLOP per sample)",
                     100 * achieved / peak, achieved, peak, cnnFlopsPerSample() / 1e6))
    }
}

/// Multiply-adds ×2 of one training sample of the example CNN: forward, and the two products
/// of each layer's backward (the first convolution needs no input gradient).
func cnnFlopsPerSample() -> Double {
    let conv1 = 26.0 * 26 * 32 * 9, conv2 = 24.0 * 24 * 64 * 288, fc1 = 9216.0 * 128, fc2 = 128.0 * 10
    return 2 * (3 * (conv2 + fc1 + fc2) + 2 * conv1)
}
