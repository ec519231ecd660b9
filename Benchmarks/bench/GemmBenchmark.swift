import Autodiff
import ExampleSupport
import Foundation

/// One matrix product of the benchmark: its key (for `--serve`), the name it is reported under,
/// and C (m×n) = A (m×k) · B (k×n), either operand read transposed in place.
struct GemmShape {
    let key: String, name: String
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
}

/// The MLP's products: forward layers, the weight gradient dW = xᵀ·G (reads x [128, 784]
/// transposed) and the input gradient dX = G·Wᵀ (reads W [784, 256] transposed), and a square
/// 1024. numpy_reference.py has the same list in the same order.
let gemmShapes = [
    GemmShape(key: "fwd1", name: "gemm 128x784*784x256", m: 128, n: 256, k: 784, transposeA: false, transposeB: false),
    GemmShape(key: "fwd2", name: "gemm 128x256*256x128", m: 128, n: 128, k: 256, transposeA: false, transposeB: false),
    GemmShape(key: "out", name: "gemm 128x128*128x10", m: 128, n: 10, k: 128, transposeA: false, transposeB: false),
    GemmShape(key: "dW", name: "gemm dW 784x128*128x256", m: 784, n: 256, k: 128, transposeA: true, transposeB: false),
    GemmShape(key: "dX", name: "gemm dX 128x256*256x784", m: 128, n: 784, k: 256, transposeA: false, transposeB: true),
    GemmShape(key: "square", name: "gemm 1024x1024*1024x1024", m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false),
]

/// A product's operands, allocated once, and a timed sample of it.
final class GemmCase {
    let shape: GemmShape
    let a: Tensor<Float>, b: Tensor<Float>
    var c: Tensor<Float>
    /// Floating-point operations of one product.
    let flops: Double
    /// Enough repetitions for ~20 ms per sample.
    let repetitions: Int

    init(_ shape: GemmShape, using generator: inout SeededGenerator) {
        self.shape = shape
        a = Tensor<Float>.randomUniform([shape.m * shape.k], in: -1..<1, using: &generator)
        b = Tensor<Float>.randomUniform([shape.k * shape.n], in: -1..<1, using: &generator)
        c = Tensor<Float>.zeros([shape.m * shape.n])
        flops = 2.0 * Double(shape.m * shape.n * shape.k)
        repetitions = max(1, Int(2e-2 * 50e9 / flops))
    }

    /// GFLOP/s of one sample (`repetitions` products with beta = 0).
    func sample() -> Double {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        // A stored k×m and read transposed has row stride 1 and column stride m.
        let (rsa, csa) = shape.transposeA ? (1, m) : (k, 1)
        let (rsb, csb) = shape.transposeB ? (1, k) : (n, 1)
        let repetitions = repetitions
        let elapsed = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    seconds {
                        for _ in 0..<repetitions {
                            MatrixProduct.multiply(m: m, n: n, k: k, a: pa.baseAddress!, rowStrideA: rsa, columnStrideA: csa,
                                                   b: pb.baseAddress!, rowStrideB: rsb, columnStrideB: csb,
                                                   c: pc.baseAddress!, ldc: n, beta: 0)
                        }
                    }
                }
            }
        }
        return flops * Double(repetitions) / elapsed / 1e9
    }
}

/// GFLOP/s of the matrix product on the MLP's shapes, at the given thread count: `--runs`
/// samples per shape, one line each; or, with `--serve`, one sample per shape key read from
/// standard input, answered with one number per line, so that a driver (compare.sh) can
/// alternate single samples of Swift and numpy.
func gemmBenchmark(_ options: CommandLineOptions) {
    let threads = options.int("threads", 1, in: 1...64)
    let runs = options.int("runs", 15, in: 1...1000)
    ComputeSettings.maxThreads = threads
    var generator = SeededGenerator(seed: 7)
    let cases = gemmShapes.map { GemmCase($0, using: &generator) }
    // Warm up caches, packing buffers and worker threads.
    for product in cases { _ = product.sample() }
    if options.isSet("serve") {
        respond("ready")
        while let key = readLine() {
            guard let product = cases.first(where: { $0.shape.key == key }) else {
                fail("unknown shape \(key); the keys are \(gemmShapes.map(\.key).joined(separator: ", "))")
            }
            respond(String(format: "%.3f", product.sample()))
        }
        return
    }
    for product in cases {
        var sample = Sample()
        for _ in 0..<runs { sample.add(product.sample()) }
        print(sample.line("\(product.shape.name) threads=\(threads)", unit: "GFLOP/s"))
    }
}

/// Writes one line to standard output at once (print's output waits in a buffer when piped).
private func respond(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
