import Dispatch
import Synchronization

/// Process-wide settings of the compute kernels.
public enum ComputeSettings {
    static let threadLimit = Atomic<Int>(defaultThreads)
    static let defaultThreads = max(1, min(8, sysconfThreads()))

    /// The most threads one matrix product may use (at least 1). Products below
    /// ``parallelThreshold`` always run on the calling thread.
    public static var maxThreads: Int {
        get { threadLimit.load(ordering: .relaxed) }
        set { threadLimit.store(max(1, newValue), ordering: .relaxed) }
    }

    /// The multiply-add count (m·n·k) from which a matrix product is split across threads.
    /// The helper threads spin between products, so the hand-off costs little; below about a
    /// million multiply-adds (the 128×128·128×10 output layer) it still does not pay (measured
    /// with `swift run -c release bench gemm --threads 2`).
    public static let parallelThreshold = 1_000_000

    /// Whether the AVX2/FMA kernels (or wider ones) are in use.
    public static var usesAVX2: Bool { instructionSet >= .avx2 }

    static let chosenInstructionSet = Atomic<Int>(KernelInstructionSet.initial.rawValue)

    /// The instruction sets this CPU runs kernels for, portable first.
    public static var supportedInstructionSets: [KernelInstructionSet] {
        KernelInstructionSet.allCases.filter { $0 <= KernelInstructionSet.best }
    }

    /// The kernel set the compute kernels use: at first the best this CPU reports, or the one
    /// the environment variable `AUTODIFF_KERNELS` names (`portable`, `avx2` or `avx512`, as
    /// PyTorch's `ATEN_CPU_CAPABILITY`). A set the CPU lacks falls back to the best below it.
    /// Sets give results that agree to rounding, not bit for bit (they cut the edges of a
    /// product into different tiles); each is deterministic for any number of threads.
    public static var instructionSet: KernelInstructionSet {
        get { KernelInstructionSet(rawValue: chosenInstructionSet.load(ordering: .relaxed)) ?? .portable }
        set { chosenInstructionSet.store(newValue.available.rawValue, ordering: .relaxed) }
    }

    /// Runs `body(part)` for every part in 0..<parts on up to `threads` threads, the calling
    /// one included, and returns when all are done: on the helper threads the matrix products
    /// use, which wait spinning between jobs, so a hand-off costs about a microsecond where
    /// waking a thread costs tens (Dispatch when they are busy). Each part runs once, on some
    /// thread; parts must not depend on one another.
    public static func parallelParts(_ parts: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        guard parts > 1, threads > 1 else {
            for part in 0..<max(parts, 0) { body(part) }
            return
        }
        if !ProductWorkers.shared.run(parts: parts, threads: threads, body) {
            DispatchQueue.concurrentPerform(iterations: parts, execute: body)
        }
    }
}

import CKernels
import Foundation

private func sysconfThreads() -> Int { ProcessInfo.processInfo.activeProcessorCount }

/// The matrix product on raw buffers; Swift decides the split across threads, C computes.
@usableFromInline
enum MatrixKernels {
    /// C (m×n, row-major, leading dimension ldc) = A·B + beta·C, where A(i,p) is
    /// `a[i*rsa + p*csa]` and B(p,j) is `b[p*rsb + j*csb]`.
    @inlinable
    static func gemm<S: TensorScalar>(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, rsa: Int, csa: Int,
        b: UnsafePointer<S>, rsb: Int, csb: Int,
        c: UnsafeMutablePointer<S>, ldc: Int, beta: S, threads: Int? = nil,
        instructionSet: KernelInstructionSet? = nil
    ) {
        let threads = threads ?? ComputeSettings.maxThreads
        let set = instructionSet ?? ComputeSettings.instructionSet
        if threads <= 1 || m * n * k < ComputeSettings.parallelThreshold {
            S.gemmKernel(m: m, n: n, k: k, a: a, rowStrideA: rsa, columnStrideA: csa,
                         b: b, rowStrideB: rsb, columnStrideB: csb, c: c, ldc: ldc, beta: beta,
                         wholeRows: m, wholeColumns: n, instructionSet: set)
            return
        }
        parallelGemm(threads: threads, m: m, n: n, k: k, a: a, rsa: rsa, csa: csa,
                     b: b, rsb: rsb, csb: csb, c: c, ldc: ldc, beta: beta, instructionSet: set)
    }

    @usableFromInline
    static func parallelGemm<S: TensorScalar>(
        threads: Int, m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, rsa: Int, csa: Int,
        b: UnsafePointer<S>, rsb: Int, csb: Int,
        c: UnsafeMutablePointer<S>, ldc: Int, beta: S, instructionSet: KernelInstructionSet
    ) {
        // Split the columns when each thread gets a useful width: every thread then packs only
        // its own part of B (A is read in place and shared). Otherwise split the rows, and each
        // thread packs all of B. Parts are whole register blocks.
        // Part boundaries are whole register blocks, spread evenly, and every part is computed
        // as the whole product would compute it (see `ck_sgemm_block`): the result is the same
        // bit for bit for any number of threads.
        let splitRows = n / threads < 64
        let length = splitRows ? m : n
        let tile = S.gemmTile(instructionSet)
        let block = splitRows ? tile.rows : tile.columns
        let blocks = (length + block - 1) / block
        // Column parts are cheap (each packs only its own columns of B), so there are two per
        // thread, taken in turn: the threads finish together even when one starts late or
        // runs slower (2 threads on the MLP: 1.11× the throughput of one part per thread, median
        // of 5 alternated runs; 4 per thread was no better). Row parts each pack all of B, so
        // there is one per thread.
        let chunksPerThread = splitRows ? 1 : 2
        let parts = min(threads * chunksPerThread, max(1, length / block))
        let addresses = (UInt(bitPattern: a), UInt(bitPattern: b), UInt(bitPattern: c))
        let work: @Sendable (Int) -> Void = { part in
            let start = min(length, part * blocks / parts * block)
            let end = min(length, (part + 1) * blocks / parts * block)
            guard start < end else { return }
            let a = UnsafePointer<S>(bitPattern: addresses.0)!
            let b = UnsafePointer<S>(bitPattern: addresses.1)!
            let c = UnsafeMutablePointer<S>(bitPattern: addresses.2)!
            if splitRows {
                S.gemmKernel(m: end - start, n: n, k: k, a: a + start * rsa, rowStrideA: rsa, columnStrideA: csa,
                             b: b, rowStrideB: rsb, columnStrideB: csb, c: c + start * ldc, ldc: ldc, beta: beta,
                             wholeRows: m, wholeColumns: n, instructionSet: instructionSet)
            } else {
                S.gemmKernel(m: m, n: end - start, k: k, a: a, rowStrideA: rsa, columnStrideA: csa,
                             b: b + start * csb, rowStrideB: rsb, columnStrideB: csb, c: c + start, ldc: ldc, beta: beta,
                             wholeRows: m, wholeColumns: n, instructionSet: instructionSet)
            }
        }
        ComputeSettings.parallelParts(parts, threads: threads, work)
    }
}

/// The instruction sets the compute kernels are written for, in order of preference; the one in
/// use is ``ComputeSettings/instructionSet``.
public enum KernelInstructionSet: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C the compiler vectorises for the baseline target (any CPU).
    case portable = 0
    /// 256-bit AVX2 and FMA kernels (x86-64 since Haswell and Zen 1).
    case avx2 = 1
    /// 512-bit AVX-512 (F, VL, DQ, BW) kernels: twice the lanes and registers of AVX2.
    case avx512 = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    /// The best set this CPU and its operating system run.
    static let best = KernelInstructionSet(rawValue: Int(ck_cpu_path())) ?? .portable

    /// This set if the CPU runs it, else the best one below it.
    var available: KernelInstructionSet { min(self, Self.best) }

    /// The set a value of `AUTODIFF_KERNELS` names (case aside), or nil.
    static func named(_ name: String) -> KernelInstructionSet? {
        allCases.first { $0.description == name.lowercased() }
    }

    /// The best set, or the one `AUTODIFF_KERNELS` names (a name it does not know is reported on
    /// standard error and ignored).
    static var initial: KernelInstructionSet {
        guard let name = ProcessInfo.processInfo.environment["AUTODIFF_KERNELS"], !name.isEmpty else { return best }
        guard let named = named(name) else {
            let known = allCases.map(\.description).joined(separator: ", ")
            FileHandle.standardError.write(Data(
                "Autodiff: AUTODIFF_KERNELS=\(name) is not one of \(known); using \(best)\n".utf8))
            return best
        }
        return named.available
    }
}

extension Tensor {
    /// The matrix product of two matrices, `[m, k] × [k, n] → [m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (m, k, n) = MatrixKernels.checkedDimensions(a.shape, b.shape, op: "matmul")
        return Tensor(shape: [m, n]) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    MatrixKernels.gemm(m: m, n: n, k: k, a: pa.baseAddress!, rsa: k, csa: 1,
                                       b: pb.baseAddress!, rsb: n, csb: 1,
                                       c: out.baseAddress!, ldc: n, beta: 0)
                }
            }
        }
    }
}

extension MatrixKernels {
    /// (m, k, n) of a product, or a stop naming the op and both shapes.
    @usableFromInline
    static func checkedDimensions(_ a: UnsafeBufferPointer<Int>, _ b: UnsafeBufferPointer<Int>, op: StaticString) -> (Int, Int, Int) {
        guard a.count == 2, b.count == 2, a[1] == b[0] else { return checkedDimensions(Array(a), Array(b), op: op) }
        return (a[0], a[1], b[1])
    }

    @inlinable
    static func checkedDimensions(_ a: [Int], _ b: [Int], op: StaticString) -> (Int, Int, Int) {
        guard a.count == 2, b.count == 2 else {
            Failure.stop("\(op): \(ShapeMath.describe(a)) × \(ShapeMath.describe(b)): both operands must be matrices")
        }
        guard a[1] == b[0] else {
            Failure.stop("\(op): \(ShapeMath.describe(a)) × \(ShapeMath.describe(b)): inner dimensions differ")
        }
        return (a[0], a[1], b[1])
    }
}

/// The matrix product on raw buffers, for code that manages its own memory (and for the
/// benchmarks): C = A·B + beta·C with A(i,p) = `a[i*rowStrideA + p*columnStrideA]` and
/// B(p,j) = `b[p*rowStrideB + j*columnStrideB]`, so transposed operands are swapped strides.
/// Split across up to ``ComputeSettings/maxThreads`` threads when large enough.
public enum MatrixProduct {
    /// C (m×n, row-major, leading dimension `ldc`) = A·B + beta·C.
    @inlinable
    public static func multiply<S: TensorScalar>(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, rowStrideA: Int, columnStrideA: Int,
        b: UnsafePointer<S>, rowStrideB: Int, columnStrideB: Int,
        c: UnsafeMutablePointer<S>, ldc: Int, beta: S
    ) {
        Failure.check(m >= 0 && n >= 0 && k >= 0 && ldc >= n, "MatrixProduct.multiply: m \(m), n \(n), k \(k), ldc \(ldc)")
        MatrixKernels.gemm(m: m, n: n, k: k, a: a, rsa: rowStrideA, csa: columnStrideA,
                           b: b, rsb: rowStrideB, csb: columnStrideB, c: c, ldc: ldc, beta: beta)
    }
}
