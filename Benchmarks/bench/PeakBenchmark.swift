import Autodiff
import CKernels
import Dispatch
import Foundation

/// The FMA peak of this CPU in GFLOP/s (Float32) with the vectors of `instructionSet` (the set
/// the kernels use, by default), from a loop of independent FMAs timed on one thread and on
/// `threads` at once: what "fraction of peak" figures are measured against.
func fmaPeak(threads: Int = 1, runs: Int = 7, instructionSet: KernelInstructionSet = ComputeSettings.instructionSet)
    -> Sample
{
    let iterations = 20_000_000
    let path = Int32(instructionSet.rawValue)
    let flops = Double(ck_fma_probe_flops(path))
    var sample = Sample()
    for _ in 0..<runs {
        let elapsed = seconds {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in _ = ck_fma_probe(iterations, path) }
        }
        sample.add(Double(iterations) * flops * Double(threads) / elapsed / 1e9)
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
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let inUse = ComputeSettings.instructionSet
    let supported = ComputeSettings.supportedInstructionSets
    print("fma peak: kernels in use \(inUse) (this CPU runs \(supported.map(\.description).joined(separator: ", ")))")
    guard supported.contains(.avx2) else {
        print("fma peak: this CPU has no AVX2/FMA; the portable kernels run")
        return
    }
    for set in supported where set >= .avx2 {
        let name = "fma peak \(set)\(set == inUse ? " (in use)" : "")"
        print(fmaPeak(threads: 1, instructionSet: set).line("\(name) threads=1", unit: "GFLOP/s"))
        if cores > 1 {
            print(fmaPeak(threads: cores, instructionSet: set).line("\(name) threads=\(cores)", unit: "GFLOP/s"))
        }
    }
}
