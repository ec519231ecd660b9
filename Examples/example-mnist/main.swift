// Trains a multilayer perceptron on the MNIST digits with the tape, shows its progress,
// reports test accuracy, saves the model as safetensors, and reads pictures of digits.
import Datasets
import ExampleSupport
import Foundation
import NeuralNetworks
import Plotting

let program = "example-mnist"
let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Train an MLP on MNIST (default: 784-256-128-10 ReLU, Adam, 10 epochs, ≥98% test accuracy).")
    options.option("epochs", "N", "training epochs (default 10, 6 for --model cnn; 0 with --load when not given)")
    options.option("batch-size", "N", "minibatch size (default 128)")
    options.option("lr", "RATE", "learning rate (default 0.001 for adam and rmsprop, 0.002 for adam with --model cnn, 0.01 for adagrad, 0.1 for sgd and momentum)")
    options.option("optimizer", "NAME", "sgd, momentum, adagrad, rmsprop or adam (default adam)")
    options.option("schedule", "NAME", "constant, step (×0.9 every 5000 iterations) or cosine (default cosine)")
    options.option("model", "NAME", "mlp (the default) or cnn (two 5×5 convolutions with max-pooling, a dense layer with dropout)")
    options.option("layers", "TEXT", "any stack of layers instead, separated by ';': reshape 1×28×28, conv2d 1→8 3×3 [stride a,b] [padding a,b], batchnorm 8, relu, maxpool 2×2, avgpool 2×2, dropout 0.25, flatten, dense 1352→10 (trained as --model cnn is)")
    options.option("hidden", "SIZES", "hidden layer widths, e.g. 256,128 (default 256,128)")
    options.option("activation", "NAME", "relu, sigmoid, tanh or leaky-relu[:alpha], for every hidden layer or one each: relu,tanh (default relu)")
    options.option("init", "NAME", "zeros, normal[:sigma], xavier or he (default he)")
    options.option("weight-decay", "L2", "L2 weight decay on weight matrices (default 0)")
    options.option("loss", "NAME", "ce (softmax cross-entropy) or mse (squared error of the softmax against one-hot labels) (default ce)")
    options.option("validation", "FRACTION", "hold out this fraction of the training set and report it (default 0); the model kept and saved is then the one of the best validation epoch")
    options.option("early-stop", "EPOCHS", "with --validation: stop when validation accuracy has not improved for this many epochs")
    options.option("seed", "N", "random seed for weights and shuffling (default 1)")
    options.option("threads", "N", "threads (default: the cores, at most 8); the same weights for any count unless --parallel batch")
    options.option("parallel", "HOW", "products: split each large matrix product across the threads (the MLP's default; the same weights for any thread count); batch: split the batch across tapes (the CNN's default: its per-image products are too small to split)")
    options.option("data", "DIR", "folder with the four MNIST IDX files, .gz or raw (default Data/mnist)")
    options.option("classes", "NAMES", "class names, comma-separated (default: classes.txt beside the data, Fashion-MNIST's, or digits)")
    options.option("save", "FILE", "where to write the trained model (default DATASET-model.safetensors, mnist-model.safetensors for MNIST)")
    options.option("load", "FILE", "start from a saved model: evaluate it, or continue with --epochs")
    options.option("out", "DIR", "where the pictures go (default example-mnist-output)")
    options.option("predict", "IMAGE", "classify the digits in a PNG or PGM picture (uses --load or the default model file)")
    options.option("show", "FILE", "with --predict: draw the 28×28 crops the model saw and its answers into FILE (.svg)")
    options.flag("check-gradients", "compare the tape's gradients with finite differences (Double) and the Float model's with the same run in Double, on a small batch, and exit")
    options.flag("graph", "draw the first training step's computational graph (graph.svg, graph.dot in --out)")
    options.flag("detect-anomalies", "stop at the first op that makes NaN or ±Inf from finite numbers, naming it and its source line")
    options.parse()
        return options
}()

/// The data set's name, and the default checkpoint named after it (so a model of another data
/// set never overwrites the MNIST one).
let datasetName = options.string("data").map(ClassNames.datasetName) ?? "mnist"
let defaultModelPath = "\(datasetName)-model.safetensors"
ComputeSettings.maxThreads = options.int("threads", ComputeSettings.maxThreads, in: 1...64)
let seed = options.seed(1)
/// --model: mlp or cnn.
/// mlp, cnn, or layers (--layers).
let modelName = options.isSet("layers") ? "layers"
    : options.parsed("model", "mlp", accepted: "mlp, cnn") { ["mlp", "cnn"].contains($0) ? $0 : nil }
if options.isSet("layers") && options.isSet("model") {
    options.fail("--layers describes the whole model; leave out --model \(options.string("model", ""))")
}
if modelName != "mlp" && (options.isSet("hidden") || options.isSet("activation")) {
    options.fail("--hidden and --activation describe the MLP; --\(modelName == "cnn" ? "model cnn" : "layers") has its own layers")
}
/// --hidden and --activation, read (and refused when malformed) before any file is opened.
/// With --load and no --hidden the layers are the checkpoint's, so a list of activations is
/// only checked for its names here (its count against the checkpoint's layers later).
let hiddenLayers: (widths: [Int], activations: [Activation]) = {
    let widths: [Int] = options.list("hidden", "256,128", of: "layer widths 1-100000") { (1...100_000).contains($0) }
    let countFromCheckpoint = options.isSet("load") && !options.isSet("hidden")
    let activations = options.parsed("activation", "relu", accepted: "relu, sigmoid, tanh, leaky-relu[:alpha in 0...1], or one per hidden layer: relu,tanh") {
        MLPArchitecture.activations(parsing: $0, hiddenLayers: countFromCheckpoint ? $0.split(separator: ",").count : widths.count)
    }
    return (widths, activations)
}()

/// The CNN of `--model cnn`: two 5×5 convolutions with max-pooling, a dense layer with dropout.
let cnnLayers = ExampleModels.mnistCNN

/// What the model is: an MLP (`--model mlp`, checkpoints of format autodiff-mlp) or any
/// sequential stack of layers (`--model cnn`, format autodiff-sequential).
enum ModelKind {
    case mlp(MLPArchitecture)
    case sequential(SequentialArchitecture)
}

/// The architecture: from the checkpoint's metadata when loading, otherwise from the flags.
struct Architecture {
    var kind: ModelKind
    /// The checkpoint's tensors, read once (every worker's model takes its weights from here).
    var weights: CheckpointContents<Float>?

    var metadata: [String: String] {
        switch kind {
        case let .mlp(mlp): mlp.metadata
        case let .sequential(layers): layers.metadata
        }
    }

    /// `784-256-128-10 relu`, or the layers of a sequential model.
    var summary: String {
        switch kind {
        case let .mlp(mlp): Self.describe(mlp)
        case let .sequential(layers): layers.description
        }
    }

    init(options: CommandLineOptions, inputWidth: Int) {
        switch modelName {
        case "cnn", "layers":
            var problem = ""
            guard let layers = SequentialArchitecture(parsing: options.string("layers") ?? cnnLayers, problem: &problem) else {
                options.fail("--layers: \(problem)")
            }
            switch layers.outputShape(forSample: [inputWidth]) {
            case let .failure(reason): exitWithError(program, "--layers: \(reason) (a sample is [\(inputWidth)] pixels)")
            case let .success(shape) where shape != [10]:
                exitWithError(program, "--layers: the model gives \(shape) per sample; it must end in 10 class scores")
            case .success: break
            }
            kind = .sequential(layers)
        default:
            let sizes = [inputWidth] + hiddenLayers.widths + [10]
            if let problem = MLP<Float>.problem(withSizes: sizes) { exitWithError(program, "--hidden: \(problem)") }
            kind = .mlp(MLPArchitecture(sizes: sizes, activations: hiddenLayers.activations))
        }
    }

    /// The architecture a checkpoint describes, checked against its tensors' shapes (and sane
    /// sizes) before anything is allocated for it.
    init(checkpoint path: String) {
        do {
            let contents: CheckpointContents<Float> = try Checkpoint.read(from: path)
            if contents.metadata["format"] == "autodiff-sequential" {
                let layers = try SequentialArchitecture(checkpoint: contents, sample: [784], path: path)
                kind = .sequential(layers)
                guard case .success([10]) = layers.outputShape(forSample: [784]) else {
                    exitWithError(program, "\(path): the model does not map 28×28 digits to 10 classes")
                }
            } else {
                let mlp = try MLPArchitecture(checkpoint: contents, path: path)
                kind = .mlp(mlp)
                guard mlp.sizes.last == 10 else {
                    exitWithError(program, "\(path): the model has \(mlp.sizes.last!) outputs; this program classifies 10 digits")
                }
            }
            weights = contents
        } catch {
            exitWithError(program, "\(error)")
        }
        if options.isSet("layers") {
            exitWithError(program, "--layers describes a new model; \(path) holds its own (\(summary)); leave --layers out to use it")
        }
        if options.isSet("model") && (modelName == "cnn") != { if case .sequential = kind { true } else { false } }() {
            exitWithError(program, "--model \(modelName) asks for another kind of model than \(path) holds (\(summary)); leave --model out to use the saved one")
        }
        // --hidden or --activation beside --load must describe the saved model, never be ignored.
        if options.isSet("hidden") || options.isSet("activation") {
            guard case let .mlp(saved) = kind else {
                exitWithError(program, "--hidden and --activation describe an MLP; \(path) holds a sequential model (\(summary))")
            }
            let hidden = options.isSet("hidden") ? hiddenLayers.widths : Array(saved.sizes.dropFirst().dropLast())
            let activations = options.string("activation").map { MLPArchitecture.activations(parsing: $0, hiddenLayers: hidden.count) }
                ?? saved.activations
            guard let activations else {
                exitWithError(program, "--activation \(options.string("activation", "")) does not name one activation, or one per hidden layer, for the \(hidden.count) hidden layer\(hidden.count == 1 ? "" : "s") of \(path) (\(Self.describe(saved)))")
            }
            let asked = MLPArchitecture(sizes: [saved.sizes[0]] + hidden + [saved.sizes.last!], activations: activations)
            let flags = ["hidden", "activation"].filter(options.isSet).map { "--\($0) \(options.string($0, ""))" }
            guard asked == saved else {
                exitWithError(program, "\(flags.joined(separator: " ")) asks for \(Self.describe(asked)), but \(path) holds \(Self.describe(saved)); leave \(flags.count == 1 ? "it" : "them") out to use the saved model, or train a new one without --load")
            }
        }
    }

    /// `784-16-10 relu`.
    static func describe(_ architecture: MLPArchitecture) -> String {
        architecture.sizes.map(String.init).joined(separator: "-") + " " + architecture.activationsDescription
    }

    /// Why the model cannot take images of `pixels` pixels, or nil.
    func problem(imageSize pixels: Int) -> String? {
        switch kind {
        case let .mlp(mlp):
            return mlp.sizes[0] == pixels ? nil : "the model takes \(mlp.sizes[0]) inputs but the data's images have \(pixels) pixels"
        case let .sequential(layers):
            if case let .failure(problem) = layers.outputShape(forSample: [pixels]) {
                return "the model does not take the data's images of \(pixels) pixels: \(problem)"
            }
            return nil
        }
    }
}

/// A model on `tape`, built from `architecture`, with the checkpoint's weights if it has them.
func makeModel<S: TensorScalar>(on tape: Tape<S>, _ architecture: Architecture, initializer: Initializer) -> Sequential<S> {
    let model: Sequential<S>
    switch architecture.kind {
    case let .mlp(mlp):
        model = Sequential(MLP<S>(sizes: mlp.sizes, activations: mlp.activations, initializer: initializer, on: tape, seed: seed))
    case let .sequential(layers):
        model = layers.makeModel(on: tape, seed: seed, initializer: initializer)
    }
    if let weights = architecture.weights {
        let converted = CheckpointContents<S>(converting: weights)
        do {
            try Checkpoint.apply(converted, to: model, path: options.string("load") ?? defaultModelPath)
        } catch { exitWithError(program, "\(error)") }
    }
    return model
}

/// Stops when the model cannot take the data's images.
func checkInputWidth(_ architecture: Architecture, _ data: MNIST<Float>) {
    if let problem = architecture.problem(imageSize: data.imageSize) { exitWithError(program, problem) }
}

func loadData() -> MNIST<Float> {
    do { return try MNIST(directory: options.mnistDirectory()) } catch { exitWithError(program, "\(error)") }
}

// MARK: --predict

if let imagePath = options.string("predict") {
    let modelPath = options.string("load") ?? defaultModelPath
    guard FileManager.default.fileExists(atPath: modelPath) else {
        exitWithError(program, "no model at \(modelPath): train one first (\(program)) or pass --load FILE")
    }
    let tape = Tape<Float>()
    let architecture = Architecture(checkpoint: modelPath)
    if let problem = architecture.problem(imageSize: 784) {
        exitWithError(program, "\(modelPath): --predict reads 28×28 digits (784 pixels), and \(problem)")
    }
    let model: Sequential<Float> = makeModel(on: tape, architecture, initializer: .zeros)
    if let show = options.string("show") {
        do { try AtomicFile.checkWritable(show) } catch { exitWithError(program, "--show: \(error)") }
    }
    // The model is checked before the picture is read: a bad checkpoint is the first thing to say.
    let image: GrayImage
    do { image = try GrayImage(contentsOf: imagePath) } catch { exitWithError(program, "\(error)") }
    let digits = DigitExtraction.digits(in: image)
    guard !digits.isEmpty else { exitWithError(program, "\(imagePath): no digits found (no ink on the paper)") }
    let trainer = ClassifierTrainer(model: model, tape: tape, optimizer: .sgd)
    let features = Tensor<Float>(shape: [digits.count, 784], scalars: digits.flatMap { $0.map(Float.init) })
    let probabilities = trainer.probabilities(features)
    let predicted = probabilities.argmaxRows()
    print("\(imagePath): \(digits.count) digit\(digits.count == 1 ? "" : "s") → \(predicted.map(String.init).joined())")
    var captions: [String] = []
    for (i, digit) in predicted.enumerated() {
        let row = (0..<10).map { (class: $0, p: probabilities[i, $0]) }.sorted { $0.p > $1.p }
        let top = row.prefix(3).map { String(format: "%d: %.1f%%", $0.class, Double($0.p) * 100) }.joined(separator: ", ")
        print("  digit \(i + 1): \(digit)   (\(top))")
        captions.append(String(format: "%d (%.0f%%)", digit, Double(row[0].p) * 100))
    }
    if let show = options.string("show") {
        let grid = ImageGrid(title: "\(URL(fileURLWithPath: imagePath).lastPathComponent): what the model saw", images: digits, captions: captions).render()
        do { try AtomicFile.write(Array(grid.svg.utf8), to: show) } catch { exitWithError(program, "\(error)") }
        print("picture: \(show)")
    }
    exit(0)
}

// MARK: --check-gradients

if options.isSet("check-gradients") {
    let checkpointArchitecture = options.string("load").map { Architecture(checkpoint: $0) }
    let data = loadData()
    let architecture = checkpointArchitecture ?? Architecture(options: options, inputWidth: data.imageSize)
    checkInputWidth(architecture, data)
    guard case let .mlp(mlp) = architecture.kind else {
        exitWithError(program, "--check-gradients checks the MLP (--model mlp); the CNN's ops are checked by the test suite")
    }
    let initializer = options.parsed("init", "he", accepted: "zeros, normal[:sigma], xavier, he", Initializer.init(name:))
    let reference: Sequential<Double> = makeModel(on: Tape<Double>(), architecture, initializer: initializer)
    let batch = data.training.subset(Array(0..<8))
    let features = batch.features.converted(to: Double.self)
    let weights = reference.namedParameters.map { ($0.name, $0.parameter.value) }
    print("gradient check: \(architecture.summary), batch of 8, softmax cross-entropy")
    print("comparing tape gradients with central differences on 40 sampled entries per parameter (Double)")
    /// The MLP's loss on the batch, for any scalar: run in Double against finite differences,
    /// and in Float against Double.
    struct BatchLoss: ScalarGenericComputation {
        let features: Tensor<Double>, labels: [Int], activations: [Activation]
        func callAsFunction<T: TensorScalar>(_ tape: Tape<T>, _ parameters: [Variable<T>]) -> Variable<T> {
            var h = tape.constant(features.converted(to: T.self))
            for layer in 0..<(parameters.count / 2) {
                h = linear(h, weight: parameters[2 * layer], bias: parameters[2 * layer + 1])
                if layer < parameters.count / 2 - 1 { h = activations[layer](h) }
            }
            return softmaxCrossEntropy(logits: h, labels: labels)
        }
    }
    let loss = BatchLoss(features: features, labels: batch.labels, activations: mlp.activations)
    let result = GradientCheck.check(at: weights.map(\.1), samplesPerInput: 40) { tape, parameters in loss(tape, parameters) }
    // The model as trained: Float weights, the Float kernels; its gradients against the same run in Double.
    let floatModel: Sequential<Float> = makeModel(on: Tape<Float>(), architecture, initializer: initializer)
    let precision = GradientCheck.checkFloatInDouble(at: floatModel.namedParameters.map(\.parameter.value), loss)
    print("and the Float model's gradients (the training kernels) against the same computation in Double, normwise")
    for (i, (name, _)) in weights.enumerated() {
        print(String(format: "  %-16@ finite differences %.2e   Float in Double %.2e", name as NSString,
                     result.maxErrorPerInput[i], precision.maxErrorPerInput[i]))
    }
    let agree = result.maxError < 1e-6 && precision.passed
    print(result.maxError < 1e-6 ? "Double gradients agree with finite differences (largest error \(String(format: "%.2e", result.maxError)) < 1e-6)"
                                 : "GRADIENTS DISAGREE: \(result)")
    print(precision.passed ? "Float gradients agree with Double (largest \(String(format: "%.2e", precision.maxError)) ≤ \(precision.tolerance))"
                           : "FLOAT GRADIENTS DISAGREE: \(precision)")
    exit(agree ? 0 : 1)
}

// MARK: Training and evaluation

let start = Date()
let loadPath = options.string("load")
// A checkpoint is read and checked first: its kind of model sets the defaults below.
let checkpointArchitecture = loadPath.map { Architecture(checkpoint: $0) }
let convolutional = checkpointArchitecture.map { if case .sequential = $0.kind { true } else { false } } ?? (modelName != "mlp")
let epochs = options.int("epochs", loadPath == nil ? (convolutional ? 6 : 10) : 0, in: 0...10_000)
let batchSize = options.int("batch-size", 128, in: 1...60_000)
let optimizerKind = options.parsed("optimizer", "adam", accepted: "sgd, momentum, adagrad, rmsprop, adam", OptimizerKind.init(name:))
let learningRate = options.double("lr", ExampleModels.defaultLearningRate(optimizerKind, convolutional: convolutional), in: 1e-12...100)
let initializer = options.parsed("init", "he", accepted: "zeros, normal[:sigma], xavier, he", Initializer.init(name:))
let weightDecay = options.double("weight-decay", 0, in: 0...10)
let validationFraction = options.double("validation", 0, in: 0...0.9)
let patience: Int? = options.isSet("early-stop") ? options.int("early-stop", 3, in: 1...10_000) : nil
if patience != nil && validationFraction == 0 { options.fail("--early-stop needs --validation FRACTION to judge the epochs by") }

let parallel = options.parsed("parallel", convolutional ? "batch" : "products", accepted: "products, batch") {
    ["products", "batch"].contains($0) ? $0 : nil
}
let lossKind = options.parsed("loss", "ce", accepted: "ce, mse", ClassifierLoss.init(rawValue:))
let scheduleName = options.parsed("schedule", "cosine", accepted: "constant, step, cosine") { ["constant", "step", "cosine"].contains($0) ? $0 : nil }
let classNames: [String]
do {
    classNames = try ClassNames.names(forDataIn: options.mnistDirectory(), classes: 10,
                                      given: options.string("classes").map { $0.split(separator: ",").map(String.init) })
} catch {
    exitWithError(program, "\(error)")
}

// A checkpoint or a picture folder that cannot be written should stop us before training.
if epochs > 0 || options.isSet("save") {
    do { try AtomicFile.checkWritable(options.string("save") ?? defaultModelPath) }
    catch { exitWithError(program, "cannot save the checkpoint: \(error)") }
}
var pictures = PictureFolder(options.string("out", "example-mnist-output"), program: program)

// A checkpoint and the flags are checked before the images are read (the batch size against
// the training count, from the small label file); the input width needs the images.
let trainingCount: Int
do { trainingCount = LabeledSet<Float>.trainingCount(of: try MNIST<Float>.trainingCount(directory: options.mnistDirectory()),
                                                     holdingOut: validationFraction) }
catch { exitWithError(program, "\(error)") }
// An empty set is the data's own error, said when the images are read.
guard epochs == 0 || trainingCount == 0 || batchSize <= trainingCount else {
    exitWithError(program, "--batch-size \(batchSize) is larger than the \(trainingCount) training images")
}
let data = loadData()
let architecture = checkpointArchitecture ?? Architecture(options: options, inputWidth: data.imageSize)
checkInputWidth(architecture, data)
let (training, validation) = validationFraction > 0
    ? data.training.split(validationFraction: validationFraction, seed: seed)
    : (data.training, nil)
// By default one tape, each large matrix product split across the threads: the weights come out
// the same bit for bit for any --threads. `--parallel batch` splits the batch across tapes
// instead (data-parallel workers), whose summed gradients round differently per thread count.
var trainer = ClassifierTrainer(workers: parallel == "batch" ? ComputeSettings.maxThreads : 1,
                                optimizer: optimizerKind, weightDecay: weightDecay) { tape in
    makeModel(on: tape, architecture, initializer: initializer) as Sequential<Float>
}
trainer.loss = lossKind
// Recorded, then reported after the step that found it, so the program ends with exit code 1.
if options.isSet("detect-anomalies") { trainer.anomalyDetection = .record }
let model = trainer.model
var batches = Minibatches(of: training, size: batchSize, seed: seed)
// Resuming (--load with --epochs): the optimizer's moments and step, the schedule's position
// and the shuffle order continue from the checkpoint, so training on picks up where it stopped.
// Every tensor and number of the checkpoint is checked before the first step: a state that does
// not fit is refused with its name, never silently restarted.
let resumed = checkpointArchitecture?.weights.map { contents -> (iteration: Int, epochs: Int)? in
    let path = loadPath ?? defaultModelPath
    do {
        guard epochs > 0 else { return nil }
        guard try trainer.optimizer.restore(contents, names: model.namedParameters.map(\.name),
                                            shapes: model.parameters.map(\.shape), path: path) else {
            if let saved = contents.metadata["optimizer"] {
                print("note: the checkpoint holds the state of \(saved); \(optimizerKind) starts afresh from its weights")
            }
            return nil
        }
        return (try Checkpoint.count("iteration", in: contents, path: path), try Checkpoint.count("epochs", in: contents, path: path))
    } catch {
        exitWithError(program, "\(error)")
    }
} ?? nil
let (startIteration, epochsBefore) = resumed ?? (0, 0)
for _ in 0..<epochsBefore { batches.shuffle() }
if let resumed {
    print("resuming: \(optimizerKind) state after \(trainer.optimizer.stepCount) steps, epoch \(resumed.epochs + 1), iteration \(resumed.iteration)")
}
let iterations = epochs * batches.count
let schedule: LearningRateSchedule = switch scheduleName {
case "constant": .constant(learningRate)
case "step": .stepDecay(initial: learningRate, factor: 0.9, every: 5000)
default: .cosine(initial: learningRate, minimum: learningRate / 100, total: startIteration + iterations)
}

print("\(program): \(architecture.summary), \(optimizerKind) lr \(learningRate) (\(options.string("schedule", "cosine"))), batch \(batchSize), \(epochs) epochs, \(ComputeSettings.maxThreads) threads")
print(String(format: "data: %@, %d training, %d validation, %d test samples (loaded in %.1fs)", datasetName,
             training.count, validation?.count ?? 0, data.test.count, Date().timeIntervalSince(start)))

var progress = ProgressLine()
var iteration = startIteration
var curves = (trainLoss: [Double](), trainAccuracy: [Double](), testLoss: [Double](), testAccuracy: [Double]())
let trainingStart = Date()
// With a validation set, the weights of the best validation epoch are kept (and saved).
var best: (accuracy: Double, epoch: Int, weights: [Tensor<Float>], buffers: [Tensor<Float>])?
for epoch in 1...max(epochs, 1) where epochs > 0 {
    batches.shuffle()
    let epochStart = Date()
    var lossSum = 0.0, correct = 0, seen = 0
    var summary = ""
    for b in 0..<batches.count {
        let rate = Float(schedule.rate(at: iteration))
        let result = batches.withBatch(b) { features, labels, _ in
            trainer.step(features: features, labels: labels, learningRate: rate)
        }
        if let anomaly = trainer.anomaly {
            progress.finish("stopped in epoch \(epoch), batch \(b + 1)")
            exitWithError(program, anomaly.description)
        }
        if iteration == startIteration && options.isSet("graph") {
            pictures.writeGraph(trainer.tape.graph(), as: "graph", title: "One training step of \(architecture.summary) (this thread's share of the batch)")
        }
        iteration += 1
        let rows = min(batchSize, training.count - b * batchSize)
        lossSum += Double(result.loss) * Double(rows)
        correct += result.correct
        seen += rows
        let elapsed = Date().timeIntervalSince(epochStart)
        let speed = Double(seen) / max(elapsed, 1e-9)
        let done = iteration - startIteration
        let remaining = Double(iterations - done) * Date().timeIntervalSince(trainingStart) / Double(done)
        summary = String(format: "epoch %d/%d  batch %d/%d  %.0f samples/s  loss %.4f", epoch, epochs, b + 1, batches.count,
                         speed, lossSum / Double(seen))
        progress.update(summary + "  ETA \(ProgressLine.duration(remaining))")
    }
    guard (lossSum / Double(max(seen, 1))).isFinite else {
        progress.finish(summary)
        exitWithError(program, "the loss became \(lossSum / Double(max(seen, 1))) in epoch \(epoch): lower --lr")
    }
    // The line that stays: short enough for 80 columns (the batch counter is gone by now).
    let epochSpeed = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
    var line = String(format: "epoch %d/%d  %.1fk samples/s  loss %.4f  train %.2f%%", epoch, epochs, epochSpeed / 1000,
                      lossSum / Double(seen), 100 * Double(correct) / Double(seen))
    var validationAccuracy: Double?
    if let validation {
        validationAccuracy = trainer.evaluate(validation.features, labels: validation.labels).accuracy
        line += String(format: "  val %.2f%%", 100 * validationAccuracy!)
    }
    let epochTest = trainer.evaluate(data.test.features, labels: data.test.labels)
    line += String(format: "  test %.2f%%", 100 * epochTest.accuracy)
    progress.finish(line)
    curves.trainLoss.append(lossSum / Double(seen))
    curves.trainAccuracy.append(Double(correct) / Double(seen))
    curves.testLoss.append(epochTest.loss)
    curves.testAccuracy.append(epochTest.accuracy)
    if let accuracy = validationAccuracy {
        if accuracy > (best?.accuracy ?? -1) { best = (accuracy, epoch, model.parameters.map(\.value), model.buffers.map(\.value)) }
        if let patience, let best, epoch - best.epoch >= patience {
            print("early stop: validation accuracy has not improved for \(patience) epochs (best \(String(format: "%.2f%%", 100 * best.accuracy)) in epoch \(best.epoch))")
            break
        }
    }
}
if let best, best.epoch < curves.trainLoss.count {
    for (parameter, weights) in zip(model.parameters, best.weights) { parameter.tape.assign(weights, to: parameter) }
    for (buffer, value) in zip(model.buffers, best.buffers) { buffer.value = value }
    print(String(format: "kept the weights of epoch %d, the best on validation (%.2f%%)", best.epoch, 100 * best.accuracy))
}

let probabilities = trainer.probabilities(data.test.features)
let predicted = probabilities.argmaxRows()
let test = ClassifierTrainer<Sequential<Float>>.evaluate(probabilities: probabilities, labels: data.test.labels)
print(String(format: "test accuracy: %.2f%% (loss %.4f) on %d images", 100 * test.accuracy, test.loss, data.test.count))
print(String(format: "time: %.1fs", Date().timeIntervalSince(start)) + (epochs > 0 ? String(format: " (training %.1fs)", Date().timeIntervalSince(trainingStart)) : ""))
if epochs > 0 || options.isSet("save") {
    let savePath = options.string("save") ?? defaultModelPath
    do {
        // The weights, and the optimizer's state so that --load can resume training exactly.
        let names = model.namedParameters.map(\.name)
        let optimizerState = trainer.optimizer.state(names: names, shapes: model.parameters.map(\.shape))
        let progressMetadata = ["iteration": "\(iteration)", "epochs": "\(epochsBefore + curves.trainLoss.count)"]
        try Checkpoint.save(model.namedTensors + optimizerState.tensors,
                            metadata: architecture.metadata.merging(optimizerState.metadata) { a, _ in a }.merging(progressMetadata) { a, _ in a },
                            to: savePath)
        print("checkpoint: \(savePath)")
    } catch {
        exitWithError(program, "\(error)")
    }
}

// Pictures: learning curves per epoch, the confusion matrix, and misclassified test digits.
if !curves.trainLoss.isEmpty {
    let x = (1...curves.trainLoss.count).map(Double.init)
    pictures.write(LineChart(title: "Loss per epoch", xLabel: "epoch", yLabel: "cross-entropy", logarithmicY: true, series: [
        Series("train (running mean)", x: x, y: curves.trainLoss), Series("test", x: x, y: curves.testLoss, dashed: true),
    ]).render(), as: "loss.svg", caption: "training and test loss per epoch")
    pictures.write(LineChart(title: "Accuracy per epoch", xLabel: "epoch", yLabel: "accuracy (%)", series: [
        Series("train", x: x, y: curves.trainAccuracy.map { $0 * 100 }), Series("test", x: x, y: curves.testAccuracy.map { $0 * 100 }, dashed: true),
    ]).render(), as: "accuracy.svg", caption: "training and test accuracy per epoch")
}
let counts = ConfusionMatrixPlot.counts(truth: data.test.labels, predicted: predicted, classes: 10)
pictures.write(ConfusionMatrixPlot(title: String(format: "%@: confusion matrix (test accuracy %.2f%%)", datasetName, test.accuracy * 100),
                                   counts: counts, labels: classNames).render(),
               as: "confusion.svg", caption: "true class (rows) against predicted class (columns) on the test set")
let width = data.imageSize
let side = Int(Double(width).squareRoot().rounded())
if side * side == width {
    let wrong = Array(data.test.labels.indices.filter { predicted[$0] != data.test.labels[$0] }.prefix(40))
    let images = wrong.map { i in (0..<width).map { Double(data.test.features.scalars[i * width + $0]) } }
    pictures.write(ImageGrid(title: "\(datasetName): misclassified test images (true → predicted)", images: images,
                             captions: wrong.map { "\(classNames[data.test.labels[$0]]) → \(classNames[predicted[$0]])" }, side: side).render(),
                   as: "misclassified.svg", caption: "the first \(wrong.count) misclassified test images")
}
// A convolutional model's first layer: its filters, and the feature maps they make of the first
// test image (after the activation that follows them).
if let first = model.layers.firstIndex(where: { $0 is Conv2D<Float> }), let conv = model.layers[first] as? Conv2D<Float>,
   conv.weight.shape[2] == conv.weight.shape[3], side * side == width {
    let w = conv.weight.value
    let (outputs, taps) = (w.shape[0], w.shape[1] * w.shape[2] * w.shape[3])
    let kernel = w.shape[2]
    // Each filter's first input channel, scaled to its own range (dark: the largest weights).
    let filters = (0..<outputs).map { o -> [Double] in
        let values = (0..<(kernel * kernel)).map { Double(w.scalars[o * taps + $0]) }
        let (low, high) = (values.min() ?? 0, values.max() ?? 1)
        return values.map { high > low ? ($0 - low) / (high - low) : 0 }
    }
    var filterGrid = ImageGrid(title: "First layer: \(outputs) filters of \(kernel)×\(kernel) (\(conv.description))", images: filters,
                               captions: (0..<outputs).map { "filter \($0)" }, side: kernel)
    filterGrid.scale = 12
    pictures.write(filterGrid.render(), as: "filters.svg", caption: "the first convolution's filters, each scaled to its own range")
    let tape = trainer.tape
    tape.reset()
    let maps = tape.withoutGradients { () -> Tensor<Float> in
        var h = tape.constant(Tensor(shape: [1, width], scalars: Array(data.test.features.scalars[0..<width])))
        for layer in model.layers[...min(first + 1, model.layers.count - 1)] { h = layer(h, training: false) }
        return h.value
    }
    if maps.rank == 4 && maps.shape[2] == maps.shape[3] {
        let (channels, mapSide) = (maps.shape[1], maps.shape[2])
        let images = (0..<channels).map { c -> [Double] in
            let values = (0..<(mapSide * mapSide)).map { Double(maps.scalars[c * mapSide * mapSide + $0]) }
            let high = values.max() ?? 0
            return values.map { high > 0 ? $0 / high : 0 }
        }
        pictures.write(ImageGrid(title: "Feature maps of the first test image (a \(classNames[data.test.labels[0]])) after the first layer",
                                 images: images, captions: (0..<channels).map { "map \($0)" }, side: mapSide).render(),
                       as: "feature-maps.svg", caption: "what each filter makes of the first test image, scaled to its largest value")
    }
}
pictures.writeIndex(title: "\(program) on \(datasetName): \(architecture.summary)")
