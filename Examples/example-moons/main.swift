// A small network learns a 2-D two-class set; the decision boundary is drawn as it learns.
// The model is a plain forward expression: sigmoid(MLP(x)), with binary cross-entropy.
import Datasets
import ExampleSupport
import Foundation
import NeuralNetworks
import Plotting

let program = "example-moons"
let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Train a classifier on a 2-D toy set (moons, flower, circles) and draw its decision boundary as it learns.")
    options.option("dataset", "NAME", "moons (default), flower or circles")
    options.option("hidden", "SIZES", "hidden widths (moons 25,50,50,25; flower 4; circles 25,25)")
    options.option("activation", "NAME", "relu, sigmoid, tanh or leaky-relu (moons/circles relu, flower tanh)")
    options.option("iterations", "N", "full-batch gradient-descent iterations (moons/circles 3000, flower 10000)")
    options.option("lr", "RATE", "learning rate (moons/circles 0.1, flower 1.2)")
    options.option("frames", "N", "pictures in the animation (default 30)")
    options.option("seed", "N", "seed for data, split and weights (default 1)")
    options.option("out", "DIR", "where the pictures go (default example-moons-output)")
    options.flag("detect-anomalies", "stop at the first op that makes NaN or ±Inf from finite numbers, naming it and its source line")
    options.parse()
    return options
}()

let dataset = options.string("dataset", "moons")
guard ["moons", "flower", "circles"].contains(dataset) else { options.fail("--dataset must be moons, flower or circles, got '\(dataset)'") }
let seed = options.seed(1)
let flower = dataset == "flower"
let hidden: [Int] = options.list("hidden", flower ? "4" : dataset == "moons" ? "25,50,50,25" : "25,25",
                                  of: "layer widths 1-4096") { (1...4096).contains($0) }
let activation = options.parsed("activation", flower ? "tanh" : "relu", accepted: "relu, sigmoid, tanh, leaky-relu", Activation.init(name:))
let iterations = options.int("iterations", flower ? 10_000 : 3000, in: 1...1_000_000)
let learningRate = Float(options.double("lr", flower ? 1.2 : 0.1, in: 1e-9...100))
let frameCount = options.int("frames", 30, in: 1...500)
var pictures = PictureFolder(options.string("out", "example-moons-output"), program: program)

// The seeds' sets: make_moons(1000, noise 0.2) split 80/20; the planar flower (400 points);
// make_circles(1000, noise 0.1).
let all: LabeledSet<Float> = switch dataset {
case "flower": SyntheticSets.flower(count: 400, seed: seed)
case "circles": SyntheticSets.circles(count: 1000, noise: 0.1, seed: seed)
default: SyntheticSets.moons(count: 1000, noise: 0.2, seed: seed)
}
let (train, test) = all.split(validationFraction: 0.2, seed: seed)

let tape = Tape<Float>()
if options.isSet("detect-anomalies") { tape.anomalyDetection = .record }
let model = MLP<Float>(sizes: [2] + hidden + [1], activation: activation,
                       initializer: flower ? .normal(standardDeviation: 0.01) : .he, on: tape, seed: seed)
let trainX = tape.persistentConstant(train.features)
let trainY = tape.persistentConstant(Tensor(shape: [train.count, 1], scalars: train.labels.map(Float.init)))
var optimizer = OptimizerKind.sgd.make(for: model.parameters)

/// p(class 1) for each row of `features`.
@MainActor func probabilities(_ features: Tensor<Float>) -> [Float] {
    tape.reset()
    return tape.withoutGradients { sigmoid(model(tape.constant(features))).value.scalars }
}

@MainActor func accuracy(_ set: LabeledSet<Float>) -> Double {
    let p = probabilities(set.features)
    return Double(zip(p, set.labels).filter { ($0 > 0.5 ? 1 : 0) == $1 }.count) / Double(set.count)
}

// The plane shown: the data's extent with a margin, and the grid the model is evaluated on.
let xs = stride(from: 0, to: all.features.count, by: 2).map { Double(all.features.scalars[$0]) }
let ys = stride(from: 1, to: all.features.count, by: 2).map { Double(all.features.scalars[$0]) }
let xRange = (xs.min()! - 0.5)...(xs.max()! + 0.5), yRange = (ys.min()! - 0.5)...(ys.max()! + 0.5)
let resolution = 64
let grid = Tensor<Float>(shape: [resolution * resolution, 2], scalars: (0..<(resolution * resolution)).flatMap { cell -> [Float] in
    let (x, y) = DecisionBoundaryPlot.gridPoint(row: cell / resolution, column: cell % resolution, resolution: resolution,
                                                xRange: xRange, yRange: yRange)
    return [Float(x), Float(y)]
})

print("\(program): \(dataset), \(train.count) training and \(test.count) test points; network \(([2] + hidden + [1]).map(String.init).joined(separator: "-")) \(activation), sigmoid output, BCE; lr \(learningRate), \(iterations) full-batch iterations")
let reportEvery = max(1, iterations / 30 / 100 * 100 == 0 ? 100 : iterations / 30 / 100 * 100)
let frameEvery = max(1, iterations / frameCount)
var frames: [DecisionBoundaryPlot.Frame] = []
var lossCurve: [Double] = [], testLossCurve: [Double] = [], curveX: [Double] = []
let start = Date()
for iteration in 0...iterations {
    tape.reset()
    let loss = binaryCrossEntropy(sigmoid(model(trainX)), trainY)
    let lossValue = Double(loss.scalar)
    if iteration % reportEvery == 0 || iteration == iterations {
        let trainAccuracy = accuracy(train), testAccuracy = accuracy(test)
        tape.reset()
        let testLoss = tape.withoutGradients {
            Double(binaryCrossEntropy(sigmoid(model(tape.constant(test.features))),
                                      tape.constant(Tensor(shape: [test.count, 1], scalars: test.labels.map(Float.init)))).scalar)
        }
        curveX.append(Double(iteration))
        lossCurve.append(lossValue)
        testLossCurve.append(testLoss)
        print(String(format: "iteration %6d  loss %.4f  train %.1f%%  test %.1f%%", iteration, lossValue, trainAccuracy * 100, testAccuracy * 100))
        guard lossValue.isFinite else { exitWithError(program, "the loss became \(lossValue): lower --lr") }
    }
    if iteration % frameEvery == 0 || iteration == iterations {
        let caption = String(format: "iteration %d · train accuracy %.1f%%", iteration, accuracy(train) * 100)
        frames.append(.init(caption: caption, probabilities: probabilities(grid).map(Double.init)))
    }
    if iteration == iterations { break }
    tape.reset()
    tape.backward(binaryCrossEntropy(sigmoid(model(trainX)), trainY))
    if let anomaly = tape.anomaly { exitWithError(program, "iteration \(iteration): \(anomaly)") }
    optimizer.step(model.parameters, learningRate: learningRate)
}
print(String(format: "final: train %.1f%%, test %.1f%% (%.1fs)", accuracy(train) * 100, accuracy(test) * 100, Date().timeIntervalSince(start)))

let points = (0..<all.count).map { i in (x: xs[i], y: ys[i], label: all.labels[i]) }
let boundary = DecisionBoundaryPlot(title: "\(dataset): decision boundary as the network learns", xRange: xRange, yRange: yRange,
                                    resolution: resolution, points: points, frames: frames)
pictures.write(boundary.render(), as: "boundary.svg", caption: "p(class 1) over the plane, every \(frameEvery) iterations (animated)")
let curves = LineChart(title: "\(dataset): binary cross-entropy", xLabel: "iteration", yLabel: "loss", logarithmicY: true,
                       series: [Series("train", x: curveX, y: lossCurve), Series("test", x: curveX, y: testLossCurve, dashed: true)])
pictures.write(curves.render(), as: "loss.svg", caption: "training and test loss")
pictures.writeIndex(title: "\(program) --dataset \(dataset)")
