// example-mnist's training, data-parallel over the processes of an MPI job:
//   mpirun -np 2 Distributed/.build/release/example-mnist-distributed [flags]
// Every rank holds a replica of the model; each batch is split across the ranks (and each rank's
// share across its --threads); the gradients are summed in rank order, so every rank applies the
// same update. Rank 0 prints, draws and writes the checkpoint (after every epoch, atomically).
import Autodiff
import DataParallel
import Datasets
import ExampleSupport
import Foundation
import MessagePassing
import NeuralNetworks
import Plotting

/// A path three folders below the repository (this file's folder): where example-mnist's
/// default finds `Data/mnist` (three folders up) when run from elsewhere.
let repositoryFolderChild = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let program = "example-mnist-distributed"

let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Train example-mnist's models data-parallel over the processes of an MPI job (mpirun -np N \(program) [flags]).")
    options.option("epochs", "N", "training epochs (default 10, 6 for --model cnn; 0 with --load when not given)")
    options.option("batch-size", "N", "global minibatch size, split across the ranks (default 128)")
    options.option("lr", "RATE", "learning rate (default 0.001 for adam and rmsprop, 0.002 for adam with --model cnn, 0.01 for adagrad, 0.1 for sgd and momentum)")
    options.option("optimizer", "NAME", "sgd, momentum, adagrad, rmsprop or adam (default adam)")
    options.option("schedule", "NAME", "constant, step (×0.9 every 5000 iterations) or cosine (default cosine)")
    options.option("model", "NAME", "mlp (the default) or cnn")
    options.option("layers", "TEXT", "any stack of layers instead, as example-mnist --layers takes it")
    options.option("hidden", "SIZES", "hidden layer widths of the MLP (default 256,128)")
    options.option("activation", "NAME", "relu, sigmoid, tanh or leaky-relu[:alpha], for every hidden layer or one each (default relu)")
    options.option("init", "NAME", "zeros, normal[:sigma], xavier or he (default he)")
    options.option("weight-decay", "L2", "L2 weight decay on weight matrices (default 0)")
    options.option("loss", "NAME", "ce or mse (default ce)")
    options.option("seed", "N", "random seed for weights and shuffling, the same in every rank (default 1)")
    options.option("threads", "N", "threads per rank, each with its share of the rank's rows (default 1)")
    options.option("data", "DIR", "folder with the four MNIST IDX files, .gz or raw (default Data/mnist)")
    options.option("save", "FILE", "where rank 0 writes the model after every epoch (default DATASET-model.safetensors)")
    options.option("load", "FILE", "start from a saved model (of any number of ranks, or of example-mnist): evaluate it, or continue with --epochs")
    options.option("out", "DIR", "where rank 0 draws the learning curves (default example-mnist-distributed-output)")
    options.parse()
    return options
}()
let world: Communicator
// MPI starts after the flags are read (--help and a bad flag end a plain process, not an MPI
// one), and is ended by this program's normal end only: a rank that stops with an error ends the job.
do { world = try Communicator.world(finishAtExit: false) } catch { exitWithError(program, "\(error)") }
let (rank, ranks) = (world.rank, world.size)
let isFirst = rank == 0

/// Stops with `message`, printed once, by rank 0: for what every rank finds alike (the flags).
func stopEverywhere(_ message: String) -> Never {
    if isFirst { exitWithError(program, message) }
    exit(1)
}

/// Stops this rank with `message`, naming the rank: for files, which may differ from machine to
/// machine (mpirun then ends the others).
func stopHere(_ message: String) -> Never {
    exitWithError(program, ranks > 1 ? "rank \(rank) of \(ranks): \(message)" : message)
}

let datasetName = options.string("data").map(ClassNames.datasetName) ?? "mnist"
let savePath = options.string("save") ?? "\(datasetName)-model.safetensors"
let loadPath = options.string("load")
let seed = options.seed(1)
ComputeSettings.maxThreads = options.int("threads", 1, in: 1...64)
let threads = ComputeSettings.maxThreads
let modelName = options.parsed("model", "mlp", accepted: "mlp, cnn") { ["mlp", "cnn"].contains($0) ? $0 : nil }
if modelName == "cnn" && (options.isSet("hidden") || options.isSet("activation")) {
    options.fail("--hidden and --activation describe the MLP; --model cnn has its own layers")
}

/// What is trained: an MLP or example-mnist's CNN, or what the checkpoint of --load holds.
enum Architecture {
    case mlp(MLPArchitecture)
    case sequential(SequentialArchitecture)

    var metadata: [String: String] {
        switch self {
        case let .mlp(mlp): mlp.metadata
        case let .sequential(layers): layers.metadata
        }
    }

    var summary: String {
        switch self {
        case let .mlp(mlp): mlp.sizes.map(String.init).joined(separator: "-") + " " + mlp.activationsDescription
        case let .sequential(layers): layers.description
        }
    }
}

let checkpoint: CheckpointContents<Float>? = loadPath.map { path in
    do { return try Checkpoint.read(from: path) } catch { stopHere("\(error)") }
}
let architecture: Architecture = {
    if let checkpoint, let path = loadPath {
        do {
            if checkpoint.metadata["format"] == "autodiff-sequential" {
                return .sequential(try SequentialArchitecture(checkpoint: checkpoint, sample: [784], path: path))
            }
            return .mlp(try MLPArchitecture(checkpoint: checkpoint, path: path))
        } catch {
            stopHere("\(error)")
        }
    }
    if modelName == "cnn" || options.isSet("layers") {
        var problem = ""
        guard let layers = SequentialArchitecture(parsing: options.string("layers") ?? ExampleModels.mnistCNN, problem: &problem) else {
            options.fail("--layers: \(problem)")
        }
        if case let .failure(reason) = layers.outputShape(forSample: [784]) { stopEverywhere("--layers: \(reason)") }
        guard case .success([10]) = layers.outputShape(forSample: [784]) else {
            stopEverywhere("--layers: the model must end in 10 class scores")
        }
        return .sequential(layers)
    }
    let widths: [Int] = options.list("hidden", "256,128", of: "layer widths 1-100000") { (1...100_000).contains($0) }
    let activations = options.parsed("activation", "relu", accepted: "relu, sigmoid, tanh, leaky-relu[:alpha in 0...1], or one per hidden layer") {
        MLPArchitecture.activations(parsing: $0, hiddenLayers: widths.count)
    }
    return .mlp(MLPArchitecture(sizes: [784] + widths + [10], activations: activations))
}()
let convolutional = if case .sequential = architecture { true } else { false }
let epochs = options.int("epochs", loadPath == nil ? (convolutional ? 6 : 10) : 0, in: 0...10_000)
let batchSize = options.int("batch-size", 128, in: 1...60_000)
let optimizerKind = options.parsed("optimizer", "adam", accepted: "sgd, momentum, adagrad, rmsprop, adam", OptimizerKind.init(name:))
let learningRate = options.double("lr", ExampleModels.defaultLearningRate(optimizerKind, convolutional: convolutional), in: 1e-12...100)
let initializer = options.parsed("init", "he", accepted: "zeros, normal[:sigma], xavier, he", Initializer.init(name:))
let weightDecay = options.double("weight-decay", 0, in: 0...10)
let lossKind = options.parsed("loss", "ce", accepted: "ce, mse", ClassifierLoss.init(rawValue:))
let scheduleName = options.parsed("schedule", "cosine", accepted: "constant, step, cosine") { ["constant", "step", "cosine"].contains($0) ? $0 : nil }
guard batchSize >= ranks * threads else {
    stopEverywhere("--batch-size \(batchSize) gives fewer rows than the \(ranks) ranks × \(threads) threads that share it")
}
if isFirst && (epochs > 0 || options.isSet("save")) {
    do { try AtomicFile.checkWritable(savePath) } catch { stopEverywhere("cannot save the checkpoint: \(error)") }
}

let start = Date()
let data: MNIST<Float>
do { data = try MNIST(directory: options.mnistDirectory(sourceFile: repositoryFolderChild)) } catch { stopHere("\(error)") }
guard data.imageSize == 784 else { stopHere("the data's images have \(data.imageSize) pixels; these models take 28×28 digits") }

// The settings every rank must share: the flags as parsed, the model, and the data it read
// (a rank on another machine may have other files).
var labelDigest: UInt64 = 0xcbf2_9ce4_8422_2325
for label in data.training.labels + data.test.labels { labelDigest = (labelDigest ^ UInt64(label)) &* 0x100_0000_01b3 }
let settings = "\(architecture.summary); \(optimizerKind) lr \(learningRate) \(scheduleName); batch \(batchSize); epochs \(epochs); "
    + "seed \(seed); threads \(threads); init \(options.string("init", "he")); decay \(weightDecay); loss \(lossKind); "
    + "data \(data.training.count)+\(data.test.count) labels \(String(labelDigest, radix: 16)); load \(loadPath ?? "-")"
do { try ProcessGroup<Float>(world).checkSameSettings(settings) } catch {
    FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
    exit(1)
}

func makeModel(on tape: Tape<Float>) -> Sequential<Float> {
    let model: Sequential<Float> = switch architecture {
    case let .mlp(mlp): Sequential(MLP<Float>(sizes: mlp.sizes, activations: mlp.activations, initializer: initializer, on: tape, seed: seed))
    case let .sequential(layers): layers.makeModel(on: tape, seed: seed, initializer: initializer)
    }
    if let checkpoint {
        do {
            try Checkpoint.apply(checkpoint, to: model, path: loadPath ?? "")
        } catch { stopHere("\(error)") }
    }
    return model
}

let group = ProcessGroup<Float>(world)
var trainer = ClassifierTrainer(workers: threads, optimizer: optimizerKind, weightDecay: weightDecay, makeModel: makeModel)
trainer.loss = lossKind
let model = trainer.model
// Rank 0's weights everywhere (equal already when every rank drew them from the same seed).
do { try group.broadcast(model.parameters) } catch { group.stop("\(error)") }
trainer.replicaGroup = group
var batches = Minibatches(of: data.training, size: batchSize, seed: seed)

// Resuming (--load with --epochs): the optimizer's state, the schedule's position and the shuffle
// order continue from the checkpoint, whatever number of ranks wrote it.
var (startIteration, epochsBefore) = (0, 0)
if let checkpoint, let path = loadPath, epochs > 0 {
    do {
        if try trainer.optimizer.restore(checkpoint, names: model.namedParameters.map(\.name), shapes: model.parameters.map(\.shape), path: path) {
            (startIteration, epochsBefore) = (try Checkpoint.count("iteration", in: checkpoint, path: path),
                                              try Checkpoint.count("epochs", in: checkpoint, path: path))
            if isFirst { print("resuming: \(optimizerKind) state after \(trainer.optimizer.stepCount) steps, epoch \(epochsBefore + 1), iteration \(startIteration)") }
        }
    } catch {
        stopHere("\(error)")
    }
}
for _ in 0..<epochsBefore { batches.shuffle() }
let iterations = epochs * batches.count
let schedule: LearningRateSchedule = switch scheduleName {
case "constant": .constant(learningRate)
case "step": .stepDecay(initial: learningRate, factor: 0.9, every: 5000)
default: .cosine(initial: learningRate, minimum: learningRate / 100, total: startIteration + iterations)
}

/// Rank 0 writes the weights and the optimizer's state (collective: every rank calls it), atomically (a killed job leaves the last
/// epoch's checkpoint whole).
@MainActor func saveCheckpoint(iteration: Int, epochs: Int) {
    // Each rank keeps the optimizer's moments of its own share of the parameters: gathered first.
    trainer.gatherOptimizerState()
    guard isFirst else { return }
    let names = model.namedParameters.map(\.name)
    let state = trainer.optimizer.state(names: names, shapes: model.parameters.map(\.shape))
    let progress = ["iteration": "\(iteration)", "epochs": "\(epochs)"]
    do {
        try Checkpoint.save(model.namedTensors + state.tensors,
                            metadata: architecture.metadata.merging(state.metadata) { a, _ in a }.merging(progress) { a, _ in a },
                            to: savePath)
    } catch {
        group.stop("\(error)")
    }
}

/// Test accuracy and loss, each rank evaluating its share of the test set (with rank 0's
/// running statistics, the ones its checkpoint keeps).
@MainActor func evaluate() -> (accuracy: Double, loss: Double) {
    do { try group.broadcast(buffers: model.buffers) } catch { group.stop("\(error)") }
    let share = ClassifierTrainer<Sequential<Float>>.rows(ofRank: rank, of: ranks, batchRows: data.test.count)
    let part = data.test.subset(Array(share))
    let result = share.isEmpty ? (accuracy: 0, loss: 0) : trainer.evaluate(part.features, labels: part.labels)
    var sums = [result.accuracy * Double(share.count), result.loss * Double(share.count)]
    do { try sums.withUnsafeMutableBufferPointer { try world.sum($0) } } catch { group.stop("\(error)") }
    return (sums[0] / Double(data.test.count), sums[1] / Double(data.test.count))
}

if isFirst {
    print("\(program): \(architecture.summary), \(optimizerKind) lr \(learningRate) (\(scheduleName)), batch \(batchSize) over \(ranks) rank\(ranks == 1 ? "" : "s") × \(threads) thread\(threads == 1 ? "" : "s"), \(epochs) epochs")
    print(String(format: "data: %@, %d training, %d test samples (loaded in %.1fs)", datasetName, data.training.count, data.test.count,
                 Date().timeIntervalSince(start)))
}
var progress = ProgressLine()
var iteration = startIteration
var curves = (trainLoss: [Double](), testLoss: [Double](), trainAccuracy: [Double](), testAccuracy: [Double]())
let trainingStart = Date()
for epoch in 1...max(epochs, 1) where epochs > 0 {
    batches.shuffle()
    let epochStart = Date()
    var lossSum = 0.0, correct = 0, seen = 0
    for b in 0..<batches.count {
        let rate = Float(schedule.rate(at: iteration))
        let (result, rows) = batches.withBatch(b, part: rank, of: ranks) { features, labels, batchRows in
            (trainer.step(features: features, labels: labels, batchRows: batchRows, learningRate: rate), batchRows)
        }
        iteration += 1
        lossSum += Double(result.loss) * Double(rows)
        correct += result.correct
        seen += rows
        if isFirst {
            let speed = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
            progress.update(String(format: "epoch %d/%d  batch %d/%d  %.0f samples/s  loss %.4f", epoch, epochs, b + 1, batches.count,
                                   speed, lossSum / Double(seen)))
        }
    }
    // Every rank has the same loss (the summed one): all stop together.
    guard (lossSum / Double(max(seen, 1))).isFinite else {
        if isFirst { progress.finish("") }
        stopEverywhere("the loss became \(lossSum / Double(max(seen, 1))) in epoch \(epoch): lower --lr")
    }
    let epochSpeed = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
    let test = evaluate()
    curves.trainLoss.append(lossSum / Double(seen))
    curves.trainAccuracy.append(Double(correct) / Double(seen))
    curves.testLoss.append(test.loss)
    curves.testAccuracy.append(test.accuracy)
    saveCheckpoint(iteration: iteration, epochs: epochsBefore + epoch)
    if isFirst {
        progress.finish(String(format: "epoch %d/%d  %.1fk samples/s  loss %.4f  train %.2f%%  test %.2f%%", epoch, epochs, epochSpeed / 1000,
                               lossSum / Double(seen), 100 * Double(correct) / Double(seen), 100 * test.accuracy))
    }
}
let test = evaluate()
if epochs == 0 && options.isSet("save") { saveCheckpoint(iteration: iteration, epochs: epochsBefore) }
if isFirst {
    print(String(format: "test accuracy: %.2f%% (loss %.4f) on %d images", 100 * test.accuracy, test.loss, data.test.count))
    print(String(format: "time: %.1fs", Date().timeIntervalSince(start))
        + (epochs > 0 ? String(format: " (training %.1fs)", Date().timeIntervalSince(trainingStart)) : ""))
    if epochs > 0 || options.isSet("save") { print("checkpoint: \(savePath)") }
    if !curves.trainLoss.isEmpty {
        var pictures = PictureFolder(options.string("out", "\(program)-output"), program: program)
        let x = (1...curves.trainLoss.count).map(Double.init)
        pictures.write(LineChart(title: "Loss per epoch (\(ranks) ranks)", xLabel: "epoch", yLabel: "cross-entropy", logarithmicY: true, series: [
            Series("train (running mean)", x: x, y: curves.trainLoss), Series("test", x: x, y: curves.testLoss, dashed: true),
        ]).render(), as: "loss.svg", caption: "training and test loss per epoch")
        pictures.write(LineChart(title: "Accuracy per epoch (\(ranks) ranks)", xLabel: "epoch", yLabel: "accuracy (%)", series: [
            Series("train", x: x, y: curves.trainAccuracy.map { $0 * 100 }), Series("test", x: x, y: curves.testAccuracy.map { $0 * 100 }, dashed: true),
        ]).render(), as: "accuracy.svg", caption: "training and test accuracy per epoch")
        pictures.writeIndex(title: "\(program) on \(datasetName): \(architecture.summary), \(ranks) ranks")
    }
}
Communicator.finish()
