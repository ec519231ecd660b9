// Benchmarks: `swift run -c release bench [gemm|mlp|sqrt|forces|second-order|peak|accuracy|cnn] [flags]`, one line per figure:
// `name: median X unit (min A, max B, n=N)`. Benchmarks/compare.sh runs them beside the numpy
// reference and prints the ratios.
import ExampleSupport
import Foundation

let usage = """
    usage: bench gemm [--threads N] [--runs N] [--serve]
           bench mlp  [--sizes 784,256,128,10] [--activation relu] [--init he] [--batch 128]
                      [--lr 0.1] [--epochs 5] [--threads N] [--parallel batch|gemm] [--data DIR]
           bench sqrt [--runs N] [--steps N] [--mode both|fresh|replayed]
           bench forces [--sizes 64,512] [--runs N]
           bench second-order [--runs N]
           bench fusion [--sizes 4096,1048576] [--runs N]
           bench peak
           bench accuracy [--rows N]
           bench cnn [--threads N] [--parallel gemm|batch] [--batch 64] [--batches N] [--runs N] [--data DIR]
    """
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "gemm":
    var options = CommandLineOptions(program: "bench gemm", summary: "GFLOP/s of the matrix product on the MLP's shapes.")
    options.option("threads", "N", "threads a product may use (default 1)")
    options.option("runs", "N", "samples per figure (default 15)")
    options.flag("serve", "answer each shape key read from standard input with one sample (for compare.sh)")
    options.parse(Array(arguments.dropFirst()))
    gemmBenchmark(options)
case "mlp":
    var options = CommandLineOptions(program: "bench mlp", summary: "MLP training throughput on MNIST, then test accuracy and peak memory.")
    options.option("sizes", "LIST", "layer widths from 784 to 10 (default 784,256,128,10)")
    options.option("activation", "NAME", "relu, sigmoid, tanh or leaky-relu (default relu)")
    options.option("init", "NAME", "zeros, normal[:sigma], xavier or he (default he)")
    options.option("batch", "N", "minibatch size (default 128)")
    options.option("lr", "RATE", "SGD learning rate (default 0.1)")
    options.option("epochs", "N", "epochs, one throughput sample each (default 5)")
    options.option("threads", "N", "threads (default 1)")
    options.option("parallel", "HOW", "batch: split the batch across tapes; gemm: split each product (default batch)")
    options.option("data", "DIR", "MNIST folder (default Data/mnist)")
    options.parse(Array(arguments.dropFirst()))
    mlpBenchmark(options)
case "sqrt":
    var options = CommandLineOptions(program: "bench sqrt", summary: "The scalar step of example-sqrt, on a fresh tape and replayed.")
    options.option("runs", "N", "samples per figure (default 31)")
    options.option("steps", "N", "steps per sample (default 100000)")
    options.option("mode", "WHICH", "both, fresh or replayed (default both)")
    options.parse(Array(arguments.dropFirst()))
    let mode = options.string("mode") ?? "both"
    if !["both", "fresh", "replayed"].contains(mode) { fail("bench sqrt: --mode is both, fresh or replayed, not '\(mode)'") }
    sqrtBenchmark(runs: options.int("runs", 31, in: 1...10_000), steps: options.int("steps", 100_000, in: 1...100_000_000), mode: mode)
case "forces":
    var options = CommandLineOptions(program: "bench forces", summary: "Lennard-Jones energy and forces on the tape against a hand-written loop.")
    options.option("sizes", "LIST", "particle counts (default 64,512)")
    options.option("runs", "N", "samples per figure (default 21)")
    options.parse(Array(arguments.dropFirst()))
    forcesBenchmark(options)
case "fusion":
    var options = CommandLineOptions(program: "bench fusion", summary: "A chain of elementwise ops: tape, compiled, compiled and fused.")
    options.option("sizes", "LIST", "element counts (default 4096,1048576)")
    options.option("runs", "N", "samples per figure (default 15)")
    options.parse(Array(arguments.dropFirst()))
    fusionBenchmark(options)
case "second-order":
    var options = CommandLineOptions(program: "bench second-order", summary: "Forward mode and Hessian-vector products against forward passes and gradients.")
    options.option("runs", "N", "samples per figure (default 21)")
    options.parse(Array(arguments.dropFirst()))
    secondOrderBenchmark(options)
case "peak":
    peakBenchmark()
case "cnn":
    var options = CommandLineOptions(program: "bench cnn", summary: "Training throughput of PyTorch's MNIST example CNN.")
    options.option("threads", "N", "threads (default 1)")
    options.option("parallel", "HOW", "gemm: split each product across the threads (default); batch: split the batch across tapes")
    options.option("batch", "N", "minibatch size (default 64)")
    options.option("batches", "N", "minibatches per timed round (default 100)")
    options.option("runs", "N", "timed rounds after a warm-up round (default 5)")
    options.option("data", "DIR", "MNIST folder (default Data/mnist)")
    options.parse(Array(arguments.dropFirst()))
    cnnBenchmark(options)
case "accuracy":
    var options = CommandLineOptions(program: "bench accuracy", summary: "Each fused loss in Float against Double, [rows, 2] inputs.")
    options.option("rows", "N", "rows of two elements (default 5000000: 10⁷ elements)")
    options.parse(Array(arguments.dropFirst()))
    accuracyBenchmark(options)
case "--help", "-h", nil:
    print(usage)
default:
    fail("unknown benchmark '\(arguments[0])'\n\(usage)")
}
