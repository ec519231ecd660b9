import Autodiff
import ExampleSupport

/// GFLOP/s of the matrix product on the MLP's shapes (forward, the dW and dX forms of its
/// backward pass) and on a square 1024, at the given thread count.
func gemmBenchmark(_ options: CommandLineOptions) {
    let threads = options.int("threads", 1, in: 1...64)
    let runs = options.int("runs", 15, in: 1...1000)
    ComputeSettings.maxThreads = threads
    // (name, m, n, k, A transposed, B transposed): dW = xᵀ·G reads x [128, 784] transposed;
    // dX = G·Wᵀ reads W [784, 256] transposed.
    let shapes: [(String, Int, Int, Int, Bool, Bool)] = [
        ("gemm 128x784*784x256", 128, 256, 784, false, false),
        ("gemm 128x256*256x128", 128, 128, 256, false, false),
        ("gemm 128x128*128x10", 128, 10, 128, false, false),
        ("gemm dW 784x128*128x256", 784, 256, 128, true, false),
        ("gemm dX 128x256*256x784", 128, 784, 256, false, true),
        ("gemm 1024x1024*1024x1024", 1024, 1024, 1024, false, false),
    ]
    var generator = SeededGenerator(seed: 7)
    for (name, m, n, k, ta, tb) in shapes {
        let a = Tensor<Float>.randomUniform([m * k], in: -1..<1, using: &generator)
        let b = Tensor<Float>.randomUniform([k * n], in: -1..<1, using: &generator)
        var c = Tensor<Float>.zeros([m * n])
        let (rsa, csa) = ta ? (1, m) : (k, 1)
        let (rsb, csb) = tb ? (1, k) : (n, 1)
        let flops = 2.0 * Double(m * n * k)
        // Enough repetitions for ~20 ms per sample.
        let repetitions = max(1, Int(2e-2 * 50e9 / flops))
        var sample = Sample()
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    func run() {
                        for _ in 0..<repetitions {
                            MatrixProduct.multiply(m: m, n: n, k: k, a: pa.baseAddress!, rowStrideA: rsa, columnStrideA: csa,
                                                   b: pb.baseAddress!, rowStrideB: rsb, columnStrideB: csb,
                                                   c: pc.baseAddress!, ldc: n, beta: 0)
                        }
                    }
                    run()  // warm up caches, packing buffers and worker threads
                    for _ in 0..<runs { sample.add(flops * Double(repetitions) / seconds(run) / 1e9) }
                }
            }
        }
        print(sample.line("\(name) threads=\(threads)", unit: "GFLOP/s"))
    }
}
