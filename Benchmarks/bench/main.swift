// Benchmarks: `swift run -c release bench [gemm|mlp|sqrt] [flags]`, one line per figure:
// `name: median X unit (min A, max B, n=N)`.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "sqrt":
    sqrtBenchmark()
default:
    print("usage: bench sqrt")
    exit(arguments.isEmpty ? 0 : 2)
}
