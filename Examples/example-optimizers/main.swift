// SGD, Momentum, AdaGrad, RMSprop and Adam train the same network from the same initial
// weights on the same minibatches; their loss curves are drawn on one chart.
import Datasets
import ExampleSupport
import Foundation
import NeuralNetworks
import Plotting

let program = "example-optimizers"
let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Compare SGD, Momentum, AdaGrad, RMSprop and Adam on the same MNIST network, weights and minibatches.")
    options.option("iterations", "N", "minibatch steps per optimizer (default 2000)")
    options.option("batch-size", "N", "minibatch size (default 128)")
    options.option("hidden", "SIZES", "hidden widths (default 100)")
    options.option("seed", "N", "seed for the initial weights and the minibatch order (default 1)")
    options.option("data", "DIR", "folder with the MNIST IDX files (default Data/mnist)")
    options.option("out", "DIR", "where the pictures go (default example-optimizers-output)")
    options.parse()
    return options
}()

let iterations = options.int("iterations", 2000, in: 1...1_000_000)
let batchSize = options.int("batch-size", 128, in: 1...60_000)
let seed = options.seed(1)
let hidden: [Int] = options.list("hidden", "100", of: "layer widths 1-4096") { (1...4096).contains($0) }
var pictures = PictureFolder(options.string("out", "example-optimizers-output"), program: program)
let mnist: MNIST<Float>
do { mnist = try MNIST(directory: options.mnistDirectory()) } catch { exitWithError(program, "\(error)") }
guard batchSize <= mnist.training.count else {
    exitWithError(program, "--batch-size \(batchSize) is larger than the \(mnist.training.count) training images")
}

// The tutorial's rates: each optimizer's usual default.
let contenders: [(name: String, kind: OptimizerKind, rate: Float)] = [
    ("SGD", .sgd, 0.01), ("Momentum", .momentum(0.9), 0.01), ("AdaGrad", .adaGrad, 0.01),
    ("RMSprop", .rmsProp(decay: 0.99), 0.001), ("Adam", .adam(beta1: 0.9, beta2: 0.999), 0.001),
]
let sizes = [mnist.imageSize] + hidden + [10]
print("\(program): \(sizes.map(String.init).joined(separator: "-")) ReLU, He initialisation (seed \(seed)), batch \(batchSize), \(iterations) iterations each")
var losses: [[Double]] = []
for contender in contenders {
    let start = Date()
    let tape = Tape<Float>()
    // Same seed: the same initial weights for everyone; same batch seed: the same minibatches.
    let model = MLP<Float>(sizes: sizes, activation: .relu, initializer: .he, on: tape, seed: seed)
    var trainer = ClassifierTrainer(model: model, tape: tape, optimizer: contender.kind)
    var batches = Minibatches(of: mnist.training, size: batchSize, seed: seed, dropLast: true)
    var curve: [Double] = []
    var progress = ProgressLine()
    for iteration in 0..<iterations {
        if iteration % batches.count == 0 { batches.shuffle() }
        let loss = batches.withBatch(iteration % batches.count) { features, labels, _ in
            trainer.step(features: features, labels: labels, learningRate: contender.rate).loss
        }
        curve.append(Double(loss))
        progress.update(String(format: "%@: iteration %d/%d  loss %.4f", contender.name, iteration + 1, iterations, Double(loss)))
    }
    losses.append(curve)
    let accuracy = trainer.evaluate(mnist.test.features, labels: mnist.test.labels).accuracy
    progress.finish(contender.name.padding(toLength: 9, withPad: " ", startingAt: 0)
        + String(format: " lr %-6g  final loss %.4f  test accuracy %.2f%%  (%.1fs)",
                 Double(contender.rate), curve.last ?? .nan, accuracy * 100, Date().timeIntervalSince(start)))
}
print("\nloss every 100 iterations")
print("iteration " + contenders.map { $0.name.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined())
for iteration in stride(from: 0, to: iterations, by: 100) {
    print(String(format: "%9d ", iteration) + losses.map { String(format: "%-10.4f", $0[iteration]) }.joined())
}
let chart = LineChart(title: "Optimizers on MNIST (loss, moving average of 20 steps)", xLabel: "iteration", yLabel: "loss",
                      logarithmicY: true,
                      series: zip(contenders, losses).map { Series($0.name, y: Smoothing.movingAverage($1, window: 20)) })
pictures.write(chart.render(), as: "optimizers.svg", caption: "smoothed training loss of each optimizer")
pictures.writeIndex(title: program)
