import Autodiff
import CKernels
import Dispatch
import Foundation

/// The FMA peak of this CPU in GFLOP/s (Float32), from a loop of independent 8-wide FMAs timed
/// on one thread and on `threads` at once: what "fraction of peak" figures are measured against.
func fmaPeak(threads: Int = 1, runs: Int = 7) -> Sample {
    let iterations = 20_000_000
    var sample = Sample()
    for _ in 0..<runs {
        let elapsed = seconds {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in _ = ck_fma_probe(iterations) }
        }
        sample.add(Double(iterations) * 192 * Double(threads) / elapsed / 1e9)
    }
    return sample
}

/// Floating-point operations per sample of one SGD step of an MLP: the forward products, the
/// weight gradients, and the input gradients of every layer but the first (2 per multiply-add).
func mlpFlopsPerSample(_ sizes: [Int]) -> Double {
    let products = zip(sizes, sizes.dropFirst()).map { Double($0 * $1) }
    return 2 * (products.reduce(0, +) * 2 + products.dropFirst().reduce(0, +))
}

func peakBenchmark() {
    guard ComputeSettings.usesAVX2 else {
        print("fma peak: this CPU has no AVX2/FMA; the portable kernels run")
        return
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    print(fmaPeak(threads: 1).line("fma peak threads=1", unit: "GFLOP/s"))
    if cores > 1 { print(fmaPeak(threads: cores).line("fma peak threads=\(cores)", unit: "GFLOP/s")) }
}
