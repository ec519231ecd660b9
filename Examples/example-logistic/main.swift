// Logistic regression, as the tutorial builds it: sigmoid(x·w + b) with binary cross-entropy,
// zero initial weights, full-batch gradient descent — here on two MNIST digits.
import Datasets
import ExampleSupport
import Foundation
import NeuralNetworks
import Plotting

let program = "example-logistic"
let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Logistic regression sigmoid(x·w + b) on two MNIST digits: learning curve and learning-rate comparison.")
    options.option("digits", "A,B", "the two digits to tell apart (default 3,5; A is class 0)")
    options.option("iterations", "N", "full-batch gradient-descent iterations (default 2000)")
    options.option("lr", "RATE", "learning rate of the main run (default 0.005)")
    options.option("compare", "RATES", "learning rates to compare (default 0.01,0.001,0.0001)")
    options.option("seed", "N", "accepted for uniformity; zero initialisation and full batches use no randomness")
    options.option("data", "DIR", "folder with the MNIST IDX files (default Data/mnist)")
    options.option("out", "DIR", "where the pictures go (default example-logistic-output)")
    options.option("predict", "IMAGE", "after training, tell the two digits apart in a PNG or PGM picture of handwritten digits")
    options.flag("graph", "also draw one training step's computational graph (graph.svg, graph.dot)")
    options.parse()
    return options
}()

let digits: [Int] = options.list("digits", "3,5", of: "digits 0-9") { (0...9).contains($0) }
guard digits.count == 2, digits[0] != digits[1] else { options.fail("--digits must be two different digits, e.g. 3,5") }
let iterations = options.int("iterations", 2000, in: 1...1_000_000)
let mainRate = options.double("lr", 0.005, in: 1e-12...100)
let compareRates: [Double] = options.list("compare", "0.01,0.001,0.0001", of: "positive rates") { $0 > 0 && $0.isFinite }
_ = options.seed(0)
var pictures = PictureFolder(options.string("out", "example-logistic-output"), program: program)

let mnist: MNIST<Float>
do { mnist = try MNIST(directory: options.mnistDirectory()) } catch { exitWithError(program, "\(error)") }
let train = mnist.training.selectingClasses(digits), test = mnist.test.selectingClasses(digits)
print("\(program): digit \(digits[0]) (class 0) against digit \(digits[1]) (class 1): \(train.count) training, \(test.count) test images, 784 features in [0, 1]")

if options.isSet("graph") {
    // The first step of the main run, recorded on a tape of its own: the same expression.
    let tape = Tape<Float>()
    let w = tape.parameter(.zeros([784, 1])), b = tape.parameter(.zeros([1]))
    let x = tape.constant(train.features)
    let y = tape.constant(Tensor(shape: [train.count, 1], scalars: train.labels.map { Float($0) }))
    let cost = binaryCrossEntropy(sigmoid(matmul(x, w) + b), y)
    tape.backward(cost)
    pictures.writeGraph(tape.graph(of: cost), as: "graph", title: "One step of logistic regression: cost = BCE(sigmoid(x·w + b), y)")
}

/// Trains from zero weights with each of `rates`; returns, per rate, the cost every 100
/// iterations and the accuracies. With one rate this is exactly sigmoid(x·w + b); several rates
/// are trained at once as the columns of one weight matrix — each column is its own logistic
/// regression with its own step size — so the 784-wide images are read once per iteration for
/// all of them (the run is bound by memory traffic, not arithmetic).
func train(rates: [Double]) -> [(costs: [Double], trainAccuracy: Double, testAccuracy: Double, weights: Tensor<Float>, bias: Tensor<Float>)] {
    let runs = rates.count
    let tape = Tape<Float>()
    let w = tape.parameter(.zeros([784, runs]))
    let b = tape.parameter(.zeros([runs]))
    let x = tape.persistentConstant(train.features)
    let labels = train.labels.flatMap { Array(repeating: Float($0), count: runs) }
    let y = tape.persistentConstant(Tensor(shape: [train.count, runs], scalars: labels))
    var costs = [[Double]](repeating: [], count: runs)
    var progress = ProgressLine()
    defer { progress.finish("trained \(runs == 1 ? "lr \(rates[0])" : "\(runs) learning rates"): \(iterations) iterations") }
    for iteration in 0..<iterations {
        progress.update("lr \(rates.map { "\($0)" }.joined(separator: ", ")): iteration \(iteration + 1)/\(iterations)")
        tape.reset()
        let p = sigmoid(matmul(x, w) + b)
        // binaryCrossEntropy averages over all runs × samples; × runs makes each column's
        // gradient that of its own mean cost.
        let cost = binaryCrossEntropy(p, y) * Float(runs)
        tape.backward(cost)
        for parameter in [w, b] {
            tape.update(parameter) { value, gradient in
                for i in 0..<value.count { value[i] -= Float(rates[i % runs]) * gradient[i] }
            }
        }
        if iteration % 100 == 0 {
            tape.withValue(of: p) { probabilities in
                for r in 0..<runs {
                    var total = 0.0
                    for i in 0..<train.count {
                        let q = min(max(Double(probabilities[i * runs + r]), 1e-12), 1 - 1e-12)
                        total -= train.labels[i] == 1 ? log(q) : log(1 - q)
                    }
                    costs[r].append(total / Double(train.count))
                }
            }
        }
    }
    func accuracies(_ set: LabeledSet<Float>) -> [Double] {
        tape.reset()
        let p = tape.withoutGradients { sigmoid(matmul(tape.constant(set.features), w) + b).value.scalars }
        return (0..<runs).map { r in
            Double((0..<set.count).filter { (p[$0 * runs + r] > 0.5 ? 1 : 0) == set.labels[$0] }.count) / Double(set.count)
        }
    }
    let (trainAccuracy, testAccuracy) = (accuracies(train), accuracies(test))
    let (weights, bias) = (w.value, b.value)
    return (0..<runs).map { r in
        (costs[r], trainAccuracy[r], testAccuracy[r],
         Tensor(shape: [784, 1], scalars: (0..<784).map { weights.scalars[$0 * runs + r] }), Tensor([bias.scalars[r]]))
    }
}

let start = Date()
let main = train(rates: [mainRate])[0]
for (i, cost) in main.costs.enumerated() { print(String(format: "cost after iteration %5d: %.6f", i * 100, cost)) }
print(String(format: "train accuracy: %.2f%%   test accuracy: %.2f%%   (lr %g, %d iterations, %.1fs)",
             main.trainAccuracy * 100, main.testAccuracy * 100, mainRate, iterations, Date().timeIntervalSince(start)))
if let imagePath = options.string("predict") {
    // The trained model on each digit of the picture: P(second digit) = sigmoid(x·w + b).
    let image: GrayImage
    do { image = try GrayImage(contentsOf: imagePath) } catch { exitWithError(program, "\(error)") }
    let found = DigitExtraction.digits(in: image)
    guard !found.isEmpty else { exitWithError(program, "\(imagePath): no digits found (no ink on the paper)") }
    let x = Tensor<Float>(shape: [found.count, 784], scalars: found.flatMap { $0.map(Float.init) })
    let p = Tensor.matmul(x, main.weights) + main.bias
    let probabilities = sigmoid(p).scalars
    print("\(imagePath): \(found.count) digit\(found.count == 1 ? "" : "s") → " +
          probabilities.map { String($0 > 0.5 ? digits[1] : digits[0]) }.joined())
    for (i, q) in probabilities.enumerated() {
        print(String(format: "  digit %d: %d   (P(%d) = %.3f; this model knows only %d and %d)", i + 1,
                     q > 0.5 ? digits[1] : digits[0], digits[1], Double(q), digits[0], digits[1]))
    }
}

let xs = main.costs.indices.map { Double($0 * 100) }
pictures.write(LineChart(title: "Learning curve (lr \(mainRate))", xLabel: "iteration", yLabel: "cost",
                         series: [Series("cost", x: xs, y: main.costs)]).render(),
               as: "learning-curve.svg", caption: "cost every 100 iterations")

var comparison: [Series] = []
for (rate, run) in zip(compareRates, train(rates: compareRates)) {
    guard let cost = run.costs.last, cost.isFinite else {
        print(String(format: "lr %-8g diverged: the cost became %@ (lower the rate)", rate, "\(run.costs.first { !$0.isFinite } ?? .nan)"))
        comparison.append(Series("lr \(rate) (diverged)", x: xs, y: run.costs))
        continue
    }
    print(String(format: "lr %-8g final cost %.6f  train %.2f%%  test %.2f%%", rate, cost, run.trainAccuracy * 100, run.testAccuracy * 100))
    comparison.append(Series("lr \(rate)", x: xs, y: run.costs))
}
pictures.write(LineChart(title: "Learning rates compared", xLabel: "iteration", yLabel: "cost", series: comparison).render(),
               as: "learning-rates.svg", caption: "cost for each learning rate")
pictures.writeIndex(title: "\(program): \(digits[0]) against \(digits[1])")
