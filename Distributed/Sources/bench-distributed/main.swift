// Training throughput of data-parallel replicas over an MPI job, printed by rank 0:
//   mpirun -np P Distributed/.build/release/bench-distributed [--model mlp|cnn|both] [--threads T]
// One line per model: `<model> ranks=<P> threads=<T> train: median … samples/s (min …, max …, n=…)`,
// each round `--steps` steps of example-mnist's settings (Adam, MNIST batches), timed between
// barriers, so the figure is the whole job's.
import Autodiff
import DataParallel
import Datasets
import ExampleSupport
import Foundation
import MessagePassing
import NeuralNetworks

/// A path three folders below the repository (this file's folder): where example-mnist's
/// default finds `Data/mnist` (three folders up) when run from elsewhere.
let repositoryFolderChild = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let program = "bench-distributed"
let options: CommandLineOptions = {
    var options = CommandLineOptions(program: program, summary: "Data-parallel training throughput over the ranks of an MPI job.")
    options.option("model", "NAME", "mlp (example-mnist's 784-256-128-10 ReLU, batch 128), cnn (its CNN, batch 64), both (the default), or sum: the gradient sum alone, in rank order and MPI's own, for buffers of 1k to 4M floats")
    options.option("threads", "N", "threads per rank (default 1)")
    options.option("batch", "N", "global batch size (default 128 for the MLP, 64 for the CNN)")
    options.option("rounds", "N", "timed rounds per model (default 7)")
    options.option("steps", "N", "training steps per round (default 100 for the MLP, 10 for the CNN)")
    options.option("data", "DIR", "folder with the MNIST IDX files (default Data/mnist)")
    options.parse()
    return options
}()
let world: Communicator
// MPI starts after the flags are read (--help and a bad flag end a plain process, not an MPI
// one), and is ended by this program's normal end only: a rank that stops with an error ends the job.
do { world = try Communicator.world(finishAtExit: false) } catch { exitWithError(program, "\(error)") }
ComputeSettings.maxThreads = options.int("threads", 1, in: 1...64)
let rounds = options.int("rounds", 7, in: 1...1000)
let which = options.parsed("model", "both", accepted: "mlp, cnn, both, sum") { ["mlp", "cnn", "both", "sum"].contains($0) ? $0 : nil }
let data: MNIST<Float>
do { data = try MNIST(directory: options.mnistDirectory(sourceFile: repositoryFolderChild)) } catch { exitWithError(program, "\(error)") }

/// Median, min and max of `values`, in the one line format every figure uses.
func line(_ name: String, _ values: [Double]) -> String {
    let sorted = values.sorted()
    let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return String(format: "%@: median %.0f samples/s (min %.0f, max %.0f, n=%d)", name, median, sorted.first!, sorted.last!, sorted.count)
}

/// Rounds of `steps` steps of `makeModel`'s model on batches of `batch` rows; samples/s per round.
@MainActor
func measure(_ name: String, batch: Int, steps: Int, makeModel: @escaping (Tape<Float>) -> Sequential<Float>) {
    let group = ProcessGroup<Float>(world)
    var trainer = ClassifierTrainer(workers: ComputeSettings.maxThreads, optimizer: .adam(beta1: 0.9, beta2: 0.999), makeModel: makeModel)
    do { try group.broadcast(trainer.model.parameters) } catch { group.stop("\(error)") }
    // One rank is the baseline: example-mnist's own step, no group.
    if world.size > 1 { trainer.replicaGroup = group }
    var batches = Minibatches(of: data.training, size: batch, seed: 1, dropLast: true)
    batches.shuffle()
    var next = 0
    func run(_ count: Int) {
        for _ in 0..<count {
            if next == batches.count { batches.shuffle(); next = 0 }
            batches.withBatch(next, part: world.rank, of: world.size) { features, labels, rows in
                if world.size > 1 {
                    _ = trainer.step(features: features, labels: labels, batchRows: rows, learningRate: 0.001)
                } else {
                    _ = trainer.step(features: features, labels: labels, learningRate: 0.001)
                }
            }
            next += 1
        }
    }
    run(max(1, steps / 5))  // warm: arenas sized, pages touched
    var speeds: [Double] = []
    for _ in 0..<rounds {
        do { try world.barrier() } catch { group.stop("\(error)") }
        let start = DispatchTime.now().uptimeNanoseconds
        run(steps)
        do { try world.barrier() } catch { group.stop("\(error)") }
        speeds.append(Double(steps * batch) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
    if world.rank == 0 { print(line("\(name) ranks=\(world.size) threads=\(ComputeSettings.maxThreads) train", speeds)) }
}

/// Microseconds per sum of `count` floats across the ranks, in rank order and by MPI_Allreduce.
func measureSums() {
    let group = ProcessGroup<Float>(world)
    for count in [1 << 10, 1 << 14, 1 << 16, 235_146, 1 << 20, 1 << 22] {
        var buffer = [Float](repeating: 1, count: count)
        let repeats = max(5, min(1000, (1 << 24) / count))
        for method in ["addends", "rank-order", "mpi-allreduce"] {
            var times: [Double] = []
            for _ in 0..<rounds {
                do { try world.barrier() } catch { group.stop("\(error)") }
                let start = DispatchTime.now().uptimeNanoseconds
                buffer.withUnsafeMutableBufferPointer { b in
                    for _ in 0..<repeats {
                        switch method {
                        case "addends":
                            // As a training step: this process's numbers written into the addend, then summed.
                            let addend = group.addend(count: count)
                            addend.baseAddress!.update(from: b.baseAddress!, count: count)
                            _ = group.sumAddends(count: count)
                        case "rank-order":
                            do { try world.sumInRankOrder(b) } catch { group.stop("\(error)") }
                        default:
                            do { try world.sum(b) } catch { group.stop("\(error)") }
                        }
                        b[0] = 1
                    }
                }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(repeats))
            }
            let sorted = times.sorted()
            if world.rank == 0 {
                let name = method == "addends" ? (world.sumsInSharedMemory ? "addends-shared-memory" : "addends-messages") : method
                print(String(format: "sum floats=%d ranks=%d %@: median %.1f µs (min %.1f, max %.1f, n=%d)", count, world.size,
                             name, sorted[sorted.count / 2], sorted.first!, sorted.last!, sorted.count))
            }
        }
    }
}

if which == "sum" { measureSums() }
if which == "mlp" || which == "both" {
    let mlpBatch = options.int("batch", 128, in: 1...60_000)
    measure("mlp 784-256-128-10 batch=\(mlpBatch)", batch: mlpBatch, steps: options.int("steps", 100, in: 1...100_000)) { tape in
        Sequential(MLP<Float>(sizes: [784, 256, 128, 10], activation: .relu, initializer: .he, on: tape, seed: 1))
    }
}
if which == "cnn" || which == "both" {
    var problem = ""
    guard let layers = SequentialArchitecture(parsing: ExampleModels.mnistCNN, problem: &problem) else { exitWithError(program, problem) }
    let cnnBatch = options.int("batch", 64, in: 1...60_000)
    measure("cnn batch=\(cnnBatch)", batch: cnnBatch, steps: options.int("steps", 10, in: 1...100_000)) { tape in
        layers.makeModel(on: tape, seed: 1, initializer: .he)
    }
}
Communicator.finish()
