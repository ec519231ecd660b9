// Benchmarks: `swift run -c release bench [gemm|mlp|sqrt] [flags]`, one line per figure:
// `name: median X unit (min A, max B, n=N)`. Benchmarks/compare.sh runs them beside the numpy
// reference and prints the ratios.
import Foundation

let usage = """
    usage: bench gemm [--threads N] [--runs N]
           bench mlp  [--sizes 784,256,128,10] [--activation relu] [--init he] [--batch 128]
                      [--lr 0.1] [--epochs 5] [--threads N] [--parallel batch|gemm] [--data DIR]
           bench sqrt
    """
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "gemm":
    gemmBenchmark(Options(Array(arguments.dropFirst()), allowed: ["threads", "runs"]))
case "mlp":
    mlpBenchmark(Options(Array(arguments.dropFirst()),
                         allowed: ["sizes", "activation", "init", "batch", "lr", "epochs", "threads", "parallel", "data"]))
case "sqrt":
    sqrtBenchmark()
case "--help", "-h", nil:
    print(usage)
default:
    fail("unknown benchmark '\(arguments[0])'\n\(usage)")
}
