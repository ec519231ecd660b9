@testable import Autodiff
import Foundation
import Testing

/// C = op(A)·op(B) + beta·C the slow, obvious way, in Double.
private func naiveProduct(
    m: Int, n: Int, k: Int, a: [Double], rsa: Int, csa: Int, b: [Double], rsb: Int, csb: Int, c: [Double], beta: Double
) -> [Double] {
    var out = c.map { $0 * beta }
    for i in 0..<m {
        for j in 0..<n {
            var total = 0.0
            for p in 0..<k { total += a[i * rsa + p * csa] * b[p * rsb + j * csb] }
            out[i * n + j] += total
        }
    }
    return out
}

struct ProductCase: CustomStringConvertible, Sendable {
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
    var description: String { "\(m)×\(k)\(transposeA ? "ᵀ" : "")·\(k)×\(n)\(transposeB ? "ᵀ" : "")" }
}

// Odd shapes: 1×1, primes, one short of and one past the 6×16 register block, k past the
// depth block, empty dimensions, matrix-vector products (n = 1), and heights that leave 1, 2,
// 3 or 4 rows below the last 6-row block (the short-rows kernel) next to wide and narrow edges,
// right edges of 9, 10, 11 and 12 columns (the 12-wide kernel, which stores straight to C).
let productShapes: [(Int, Int, Int)] = [
    (1, 1, 1), (7, 13, 5), (6, 16, 1), (5, 15, 17), (13, 17, 257), (37, 41, 300), (97, 10, 128),
    (0, 5, 3), (4, 0, 3), (4, 5, 0), (300, 1, 777), (9, 1, 20), (301, 3, 200), (50, 7, 64),
    (128, 20, 33), (9, 30, 40), (784, 24, 19), (23, 11, 50), (19, 28, 31),
    // Several depth blocks on any L2 up to 2.6 MB (B is 1.3 MB in Float): C accumulates across them.
    (20, 300, 1100),
    // Right edges of 1-4 columns past full slivers (the dot-product and down-the-rows kernels),
    // as the seed's 784-50-10 network has them, with depths that are not multiples of 8.
    (100, 50, 784), (784, 50, 100), (53, 18, 70), (150, 35, 13),
    // The AVX-512 set's 8×32 (Float) and 8×16 (Double) tiles: one short of and one past them, heights
    // leaving 1-7 rows below a multiple of 8, right edges of 1-8, 9-16 and 17-31 columns.
    (8, 32, 9), (7, 31, 17), (9, 33, 40), (12, 24, 33), (20, 47, 70), (15, 63, 129), (36, 8, 19), (44, 17, 64),
]
let productCases: [ProductCase] = productShapes.flatMap { (m, n, k) in
    [(false, false), (true, false), (false, true), (true, true)].map {
        ProductCase(m: m, n: n, k: k, transposeA: $0.0, transposeB: $0.1)
    }
}

@Suite("GEMM kernels")
struct MatrixKernelTests {
    /// Checks one product against `naiveProduct`; with `padding`, C's rows are that many elements
    /// longer than n (as in a product split by columns) and those elements must stay untouched.
    func check<S: TensorScalar>(
        _: S.Type, _ c: ProductCase, instructionSet: KernelInstructionSet, threads: Int, tolerance: Double, padding: Int = 0
    ) {
        var generator = SeededGenerator(seed: UInt64(c.m * 10_007 + c.n * 101 + c.k))
        let a = (0..<(c.m * c.k)).map { _ in generator.nextUnitDouble() * 2 - 1 }
        let b = (0..<(c.k * c.n)).map { _ in generator.nextUnitDouble() * 2 - 1 }
        let start = (0..<(c.m * c.n)).map { _ in generator.nextUnitDouble() }
        let ldc = c.n + padding
        // A stored k×m and read transposed has row stride 1 and column stride m.
        let (rsa, csa) = c.transposeA ? (1, c.m) : (c.k, 1)
        let (rsb, csb) = c.transposeB ? (1, c.k) : (c.n, 1)
        for beta in [0.0, 1.0] {
            let expected = naiveProduct(m: c.m, n: c.n, k: c.k, a: a, rsa: rsa, csa: csa, b: b, rsb: rsb, csb: csb,
                                        c: start, beta: beta)
            let sa = a.map { S($0) }, sb = b.map { S($0) }
            // Row i of C starts at i·ldc; the padding holds -7, which no product here makes.
            var out = [S](repeating: -7, count: c.m * ldc)
            for i in 0..<c.m { for j in 0..<c.n { out[i * ldc + j] = S(start[i * c.n + j]) } }
            sa.withUnsafeBufferPointer { pa in
                sb.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        MatrixKernels.gemm(
                            m: c.m, n: c.n, k: c.k, a: pa.baseAddress ?? UnsafePointer(bitPattern: 8)!, rsa: rsa, csa: csa,
                            b: pb.baseAddress ?? UnsafePointer(bitPattern: 8)!, rsb: rsb, csb: csb,
                            c: pc.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, ldc: ldc, beta: S(beta),
                            threads: threads, instructionSet: instructionSet)
                    }
                }
            }
            let product = (0..<(c.m * c.n)).map { out[$0 / max(c.n, 1) * ldc + $0 % max(c.n, 1)] }
            let worst = zip(product, expected).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst <= tolerance * Double(max(c.k, 1)),
                    "\(S.self) \(c) beta \(beta) kernels \(instructionSet): largest error \(worst)")
            let touched = (0..<c.m).flatMap { i in (c.n..<ldc).filter { out[i * ldc + $0] != -7 }.map { (i, $0) } }
            #expect(touched.isEmpty,
                    "\(S.self) \(c) beta \(beta) kernels \(instructionSet): wrote past column n at \(touched.prefix(3))")
        }
    }

    /// Every kernel set this CPU runs (portable, AVX2, AVX-512), whatever `AUTODIFF_KERNELS` says.
    static let sets = ComputeSettings.supportedInstructionSets

    @Test("Float against a naive product, every kernel set the CPU runs", arguments: productCases)
    func float(_ c: ProductCase) {
        for set in Self.sets { check(Float.self, c, instructionSet: set, threads: 1, tolerance: 1e-6) }
    }

    @Test("Double against a naive product, every kernel set the CPU runs", arguments: productCases)
    func double(_ c: ProductCase) {
        for set in Self.sets { check(Double.self, c, instructionSet: set, threads: 1, tolerance: 1e-14) }
    }

    @Test("C with rows longer than n: the product lands in the first n columns, the rest stays untouched",
          arguments: [(23, 11, 50), (19, 28, 31), (97, 10, 128), (13, 17, 257), (37, 41, 300), (50, 7, 64), (9, 30, 40)])
    func leadingDimension(_ shape: (Int, Int, Int)) {
        for (ta, tb) in [(false, false), (true, false), (false, true)] {
            let c = ProductCase(m: shape.0, n: shape.1, k: shape.2, transposeA: ta, transposeB: tb)
            for set in Self.sets {
                check(Float.self, c, instructionSet: set, threads: 1, tolerance: 1e-6, padding: 5)
                check(Double.self, c, instructionSet: set, threads: 1, tolerance: 1e-14, padding: 5)
            }
        }
    }

    @Test("split across two threads, by rows and by columns, equals one thread")
    func threaded() {
        // Above the parallel threshold: one tall and one wide product.
        for c in [ProductCase(m: 301, n: 130, k: 160, transposeA: false, transposeB: true),
                  ProductCase(m: 40, n: 1013, k: 160, transposeA: true, transposeB: false)] {
            #expect(c.m * c.n * c.k >= ComputeSettings.parallelThreshold)
            for set in Self.sets {
                check(Float.self, c, instructionSet: set, threads: 2, tolerance: 1e-6)
                check(Double.self, c, instructionSet: set, threads: 2, tolerance: 1e-14)
            }
        }
    }

    /// The product of random (not integer) operands split across `threads`.
    static func splitProduct<S: TensorScalar>(
        _: S.Type, _ c: ProductCase, threads: Int, instructionSet: KernelInstructionSet
    ) -> [S] {
        var generator = SeededGenerator(seed: UInt64(c.m * 31 + c.n * 7 + c.k))
        let a = (0..<(c.m * c.k)).map { _ in S(Double(generator.next() >> 11) / Double(1 << 53) - 0.5) }
        let b = (0..<(c.k * c.n)).map { _ in S(Double(generator.next() >> 11) / Double(1 << 53) - 0.5) }
        let (rsa, csa) = c.transposeA ? (1, c.m) : (c.k, 1)
        let (rsb, csb) = c.transposeB ? (1, c.k) : (c.n, 1)
        var out = [S](repeating: 0, count: c.m * c.n)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { pc in
            MatrixKernels.gemm(m: c.m, n: c.n, k: c.k, a: pa.baseAddress!, rsa: rsa, csa: csa, b: pb.baseAddress!, rsb: rsb, csb: csb,
                               c: pc.baseAddress!, ldc: c.n, beta: 0, threads: threads, instructionSet: instructionSet)
        } } }
        return out
    }

    /// The MLP's products (forward, dW = xᵀG, dX = GWᵀ), odd shapes, the depth-blocking edge
    /// (k·n just above 65536 while each column block is below), the narrow path, a matrix-vector product.
    static let splitCases = [
        ProductCase(m: 128, n: 256, k: 784, transposeA: false, transposeB: false),
        ProductCase(m: 784, n: 256, k: 128, transposeA: true, transposeB: false),
        ProductCase(m: 128, n: 784, k: 256, transposeA: false, transposeB: true),
        ProductCase(m: 131, n: 257, k: 509, transposeA: false, transposeB: true),
        ProductCase(m: 37, n: 130, k: 600, transposeA: true, transposeB: true),
        ProductCase(m: 20011, n: 8, k: 100, transposeA: true, transposeB: false),
        ProductCase(m: 5003, n: 1, k: 300, transposeA: false, transposeB: false),
        ProductCase(m: 100, n: 50, k: 784, transposeA: false, transposeB: false),
        ProductCase(m: 784, n: 50, k: 100, transposeA: true, transposeB: false),
    ]

    @Test("a product gives the same bits on 1 to 5 threads, Float and Double, with every kernel set",
          arguments: splitCases)
    func bitwiseAcrossThreadCounts(_ c: ProductCase) {
        #expect(c.m * c.n * c.k >= ComputeSettings.parallelThreshold, "\(c) must be large enough to be split")
        for set in Self.sets {
            let single = Self.splitProduct(Float.self, c, threads: 1, instructionSet: set)
            let double = Self.splitProduct(Double.self, c, threads: 1, instructionSet: set)
            for threads in [2, 3, 5] {
                #expect(Self.splitProduct(Float.self, c, threads: threads, instructionSet: set) == single,
                        "\(c), Float, \(set): \(threads) threads differ from 1")
                #expect(Self.splitProduct(Double.self, c, threads: threads, instructionSet: set) == double,
                        "\(c), Double, \(set): \(threads) threads differ from 1")
            }
        }
    }

    @Test("the kernel setting: portable always runs, a set the CPU lacks falls back, AUTODIFF_KERNELS names parse")
    func instructionSetSetting() {
        // Reads only: setting the process-wide value would change the products of tests running beside this one.
        let sets = ComputeSettings.supportedInstructionSets
        #expect(sets.first == .portable, "portable must always be supported, got \(sets)")
        #expect(sets == KernelInstructionSet.allCases.filter { $0 <= sets.last! }, "supported sets must be a prefix: \(sets)")
        #expect(KernelInstructionSet.avx512.available == sets.last!, "asking for AVX-512 must give the best supported set")
        #expect(KernelInstructionSet.portable.available == .portable)
        #expect(KernelInstructionSet.named("AVX2") == .avx2)
        #expect(KernelInstructionSet.named("avx512") == .avx512)
        #expect(KernelInstructionSet.named("sse") == nil)
    }

    @Test("Tensor.matmul matches the tape's matmul and stops on mismatched shapes")
    func tensorMatmul() async {
        let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Float>(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(Tensor.matmul(a, b) == Tensor(shape: [2, 2], scalars: [58, 64, 139, 154]))
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.matmul(Tensor<Float>.zeros([128, 784]), Tensor<Float>.zeros([256, 10]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("matmul: [128, 784] × [256, 10]: inner dimensions differ"), "stderr was: \(text)")
        }
    }
}

@Suite("Split products from several threads at once")
struct ConcurrentProductTests {
    @Test("eight threads each splitting large products get the single-threaded results")
    func concurrentSplits() {
        let (m, n, k) = (120, 96, 100)
        #expect(m * n * k >= ComputeSettings.parallelThreshold)
        @Sendable func product(_ seed: Int, threads: Int) -> [Float] {
            let a = (0..<(m * k)).map { Float(($0 * 7 + seed) % 13) - 6 }
            let b = (0..<(k * n)).map { Float(($0 * 5 + seed) % 11) - 5 }
            var c = [Float](repeating: 0, count: m * n)
            for _ in 0..<20 {
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    MatrixKernels.gemm(m: m, n: n, k: k, a: pa.baseAddress!, rsa: k, csa: 1, b: pb.baseAddress!, rsb: n, csb: 1,
                                       c: pc.baseAddress!, ldc: n, beta: 0, threads: threads)
                } } }
            }
            return c
        }
        let expected = (0..<8).map { product($0, threads: 1) }
        let results = ResultBoxFloat(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { i in results.set(i, product(i, threads: 2)) }
        #expect(results.values == expected, "small integers: every split must give exactly the same sums")
    }
}

final class ResultBoxFloat: @unchecked Sendable {
    private var slots: [[Float]]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [Float]) { lock.lock(); slots[i] = value; lock.unlock() }
    var values: [[Float]] { lock.lock(); defer { lock.unlock() }; return slots }
}
