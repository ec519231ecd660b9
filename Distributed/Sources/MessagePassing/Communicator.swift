import CMPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The processes of an MPI job (`MPI_COMM_WORLD`), and the collective calls data-parallel
/// training needs. Every process must make the same calls in the same order with the same
/// counts (MPI's rule for collectives); a call that fails throws ``MessagePassingError``.
///
/// MPI is started by ``world()`` and ended by ``finish()``; only the thread that started it
/// makes calls (MPI_THREAD_FUNNELED).
public final class Communicator: @unchecked Sendable {
    /// This process's number, `0..<size`.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    let handle: MPI_Comm
    /// The chunks ``sumInRankOrder(_:)`` receives from every rank, kept between calls (a warm
    /// training step allocates nothing).
    var received: UnsafeMutableRawPointer?
    var receivedBytes = 0

    /// The shared-memory sum, when every process runs on this machine; nil otherwise.
    let shared: SharedSummation?
    /// The buffer of ``addend(count:of:)`` when the processes share no memory.
    var privateAddend: UnsafeMutableRawPointer?
    var privateAddendBytes = 0
    var privateArea = 0
    /// The buffer of the last ``sumShare(count:of:)`` on the message path.
    var lastShared: UnsafeMutableRawPointer?

    init(handle: MPI_Comm) throws(MessagePassingError) {
        self.handle = handle
        var rank: Int32 = 0, size: Int32 = 0
        try MessagePassingError.check(MPI_Comm_rank(handle, &rank), "MPI_Comm_rank")
        try MessagePassingError.check(MPI_Comm_size(handle, &size), "MPI_Comm_size")
        (self.rank, self.size) = (Int(rank), Int(size))
        // The processes that can share memory with this one: all of them, or the sum goes by messages.
        var node: MPI_Comm?
        try MessagePassingError.check(
            MPI_Comm_split_type(handle, cmpi_comm_type_shared(), rank, cmpi_info_null(), &node), "MPI_Comm_split_type")
        var nodeSize: Int32 = 0
        try MessagePassingError.check(MPI_Comm_size(node, &nodeSize), "MPI_Comm_size")
        // AUTODIFF_SUM=messages takes the message path on one machine too (as across machines).
        let messagesAsked = getenv("AUTODIFF_SUM").map { String(cString: $0) == "messages" } ?? false
        var everywhere = nodeSize == size && !messagesAsked ? Int64(1) : Int64(0)
        // Every process must take the same path: shared only if all of them can.
        try MessagePassingError.check(MPI_Allreduce(cmpi_in_place(), &everywhere, 1, Int64.datatype, cmpi_min(), handle), "MPI_Allreduce")
        shared = size > 1 && everywhere == 1 ? SharedSummation(communicator: node!, rank: Int(rank), size: Int(size)) : nil
    }

    /// Whether ``sumAddends(count:of:)`` goes through memory the processes share (all on one
    /// machine, unless the environment variable `AUTODIFF_SUM` is `messages`) rather than by
    /// messages.
    public var sumsInSharedMemory: Bool { shared != nil }

    /// Where this process writes its part of the next ``sumAddends(count:of:)``: `count`
    /// elements of memory the processes share when they run on one machine (nothing is copied
    /// then), of this process otherwise. Every process asks for the same count (growing the
    /// shared memory is collective, and makes earlier sums invalid). Valid until the call after
    /// the next sum.
    public func addend<T: MessageElement>(count: Int, of type: T.Type) throws(MessagePassingError) -> UnsafeMutableBufferPointer<T> {
        if let shared { return try shared.addend(count: count, of: type) }
        // Two areas used in turn, as in shared memory: a sum stays while the next addend is written.
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        if bytes > privateAddendBytes {
            privateAddend?.deallocate()
            privateAddend = UnsafeMutableRawPointer.allocate(byteCount: 2 * bytes, alignment: 64)
            (privateAddendBytes, privateArea) = (bytes, 0)
        }
        return UnsafeMutableBufferPointer(
            start: (privateAddend! + privateArea * privateAddendBytes).bindMemory(to: T.self, capacity: count), count: count)
    }

    /// The element-wise sum over all processes, added in rank order, of what each wrote into its
    /// ``addend(count:of:)`` buffer: the same bits in every process, those of
    /// ``sumInRankOrder(_:)``. Read-only, valid until the sum after next.
    public func sumAddends<T: MessageElement>(count: Int, of type: T.Type) throws(MessagePassingError) -> UnsafeBufferPointer<T> {
        // The two halves with nothing written between them.
        _ = try sumShare(count: count, of: type)
        return try gatherShares(count: count, of: type)
    }

    deinit {
        received?.deallocate()
        privateAddend?.deallocate()
    }

    /// Starts MPI (once per process) and returns all its processes. Errors are returned to the
    /// caller as ``MessagePassingError`` instead of ending the job inside MPI.
    ///
    /// With `finishAtExit` (the default) MPI is ended when the process exits, however it exits.
    /// A program that may stop with an error on one rank only (a file missing on one machine)
    /// passes false and calls ``finish()`` when it ends normally: a rank that exits without it is
    /// taken by mpirun as failed, and the job is ended at once, instead of the other ranks
    /// waiting in a collective call for a rank that is waiting in MPI_Finalize for them.
    ///
    /// Run outside `mpirun`, it is a job of one process.
    public static func world(finishAtExit: Bool = true) throws(MessagePassingError) -> Communicator {
        var started: Int32 = 0
        try MessagePassingError.check(MPI_Initialized(&started), "MPI_Initialized")
        if started == 0 {
            var provided: Int32 = 0
            try MessagePassingError.check(MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided), "MPI_Init_thread")
            // A process that ends without MPI_Finalize is reported by mpirun as failed.
            if finishAtExit { atexit { Communicator.finish() } }
        }
        try MessagePassingError.check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return try Communicator(handle: cmpi_comm_world())
    }

    /// Ends MPI in this process (after every collective call); later calls fail.
    public static func finish() {
        var ended: Int32 = 0
        MPI_Finalized(&ended)
        if ended == 0 { MPI_Finalize() }
    }

    /// Ends every process of the job with `code` (after printing what went wrong): for errors
    /// one process found that the others cannot know of.
    public func abort(code: Int32) -> Never {
        MPI_Abort(handle, code)
        fatalError("MPI_Abort returned")
    }

    /// Waits until every process has called it.
    public func barrier() throws(MessagePassingError) {
        try MessagePassingError.check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// Copies `buffer` of process `root` into `buffer` of every other process.
    public func broadcast<T: MessageElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int = 0) throws(MessagePassingError) {
        for (start, count) in Self.pieces(buffer.count) {
            try MessagePassingError.check(
                MPI_Bcast(buffer.baseAddress! + start, count, T.datatype, Int32(root), handle), "MPI_Bcast")
        }
    }

    /// Replaces `buffer` in every process by the element-wise sum over all processes, in the
    /// order MPI chooses (fast; for floating point the bits may depend on the number of
    /// processes and MPI's algorithm: see ``sumInRankOrder(_:)`` for a fixed order).
    public func sum<T: MessageElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws(MessagePassingError) {
        for (start, count) in Self.pieces(buffer.count) {
            try MessagePassingError.check(
                MPI_Allreduce(cmpi_in_place(), buffer.baseAddress! + start, count, T.datatype, cmpi_sum(), handle),
                "MPI_Allreduce")
        }
    }

    /// Replaces `buffer` in every process by the element-wise maximum over all processes.
    public func maximum<T: MessageElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws(MessagePassingError) {
        for (start, count) in Self.pieces(buffer.count) {
            try MessagePassingError.check(
                MPI_Allreduce(cmpi_in_place(), buffer.baseAddress! + start, count, T.datatype, cmpi_max(), handle),
                "MPI_Allreduce")
        }
    }

    /// Every process's `send` (the same count in each), one after another in rank order, into
    /// `into` (`size × send.count` elements) of every process.
    public func gather<T: MessageElement>(
        _ send: UnsafeBufferPointer<T>, into: UnsafeMutableBufferPointer<T>
    ) throws(MessagePassingError) {
        guard into.count == send.count * size else {
            throw MessagePassingError(call: "MPI_Allgather", code: -1,
                                      message: "\(send.count) elements from each of \(size) ranks need \(send.count * size), given \(into.count)")
        }
        guard send.count <= Int(Int32.max) else {
            throw MessagePassingError(call: "MPI_Allgather", code: -1, message: "\(send.count) elements exceed MPI's count limit")
        }
        try MessagePassingError.check(
            MPI_Allgather(send.baseAddress, Int32(send.count), T.datatype, into.baseAddress, Int32(send.count), T.datatype, handle),
            "MPI_Allgather")
    }

    /// Replaces `buffer` in every process by the element-wise sum over all processes added in
    /// rank order, `((b₀ + b₁) + b₂) + …`: the same bits in every process, run after run, and the
    /// bits a single process adding the same parts in that order gets.
    ///
    /// As fast as a ring all-reduce in bytes moved (each process sends and receives
    /// `2 (p−1)/p` of the buffer): process `r` receives chunk `r` of every buffer (an
    /// all-to-all), adds them in rank order, and all processes gather the summed chunks.
    public func sumInRankOrder<T: MessageElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws(MessagePassingError) {
        guard size > 1, buffer.count > 0 else { return }
        // A buffer above MPI's Int32 counts goes in pieces (each one summed in rank order).
        for (start, count) in Self.pieces(buffer.count, limit: Int(Int32.max) / size) {
            let piece = UnsafeMutableBufferPointer(start: buffer.baseAddress! + start, count: Int(count))
            _ = try reduceShare(piece)
            try gatherShares(piece)
        }
    }

    /// The elements of a buffer of `count` that process `rank` owns in ``sumShare(count:of:)``.
    public func share(of count: Int, rank: Int? = nil) -> Range<Int> {
        let r = rank ?? self.rank
        return (r * count / size)..<((r + 1) * count / size)
    }

    /// Half of ``sumAddends(count:of:)``: the rank-order sum of every process's addend, of which
    /// this process gets only its share (elements ``share(of:rank:)``), to read and overwrite
    /// with its part of a result that ``gatherShares(count:of:)`` then hands to all. A
    /// data-parallel step updates its share of the parameters there (ZeRO's stage 1: each
    /// process runs the optimizer on 1/p of the elements).
    public func sumShare<T: MessageElement>(count: Int, of type: T.Type) throws(MessagePassingError) -> UnsafeMutableBufferPointer<T> {
        if let shared { return try shared.sumShare(count: count, of: type) }
        let buffer = UnsafeMutableBufferPointer(
            start: (privateAddend! + privateArea * privateAddendBytes).assumingMemoryBound(to: T.self), count: count)
        privateArea ^= 1
        guard count * size <= Int(Int32.max) else {
            throw MessagePassingError(call: "MPI_Alltoallv", code: -1, message: "\(count) elements × \(size) ranks exceed MPI's counts")
        }
        let chunk = size > 1 ? try reduceShare(buffer) : buffer
        lastShared = UnsafeMutableRawPointer(buffer.baseAddress!)
        return chunk
    }

    /// Every process's share of the result (written into the buffer ``sumShare(count:of:)``
    /// returned), in every process: `count` elements, valid until the sum after next.
    public func gatherShares<T: MessageElement>(count: Int, of type: T.Type) throws(MessagePassingError) -> UnsafeBufferPointer<T> {
        if let shared { return try shared.gatherShares(count: count, of: type) }
        let buffer = UnsafeMutableBufferPointer(start: lastShared!.assumingMemoryBound(to: T.self), count: count)
        if size > 1 { try gatherShares(buffer) }
        return UnsafeBufferPointer(buffer)
    }

    /// Chunk `rank` of every process's `buffer` (an all-to-all), added in rank order into this
    /// process's chunk, which is returned.
    func reduceShare<T: MessageElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws(MessagePassingError) -> UnsafeMutableBufferPointer<T> {
        let n = buffer.count
        @inline(__always) func bound(_ chunk: Int) -> Int { chunk * n / size }
        let chunk = bound(rank + 1) - bound(rank)
        let needed = max(chunk * size * MemoryLayout<T>.stride, 64)
        if needed > receivedBytes {
            received?.deallocate()
            received = UnsafeMutableRawPointer.allocate(byteCount: needed, alignment: 64)
            receivedBytes = needed
        }
        let incoming = received!.bindMemory(to: T.self, capacity: chunk * size)
        let mine = buffer.baseAddress! + bound(rank)
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * size) { table throws(MessagePassingError) in
            let (sendCounts, sendOffsets) = (table.baseAddress!, table.baseAddress! + size)
            let (receiveCounts, receiveOffsets) = (table.baseAddress! + 2 * size, table.baseAddress! + 3 * size)
            for r in 0..<size {
                sendCounts[r] = Int32(bound(r + 1) - bound(r))
                sendOffsets[r] = Int32(bound(r))
                receiveCounts[r] = Int32(chunk)
                receiveOffsets[r] = Int32(r * chunk)
            }
            try MessagePassingError.check(
                MPI_Alltoallv(buffer.baseAddress!, sendCounts, sendOffsets, T.datatype, incoming, receiveCounts, receiveOffsets,
                              T.datatype, handle), "MPI_Alltoallv")
        }
        // Rank order: rank 0's part first, then each next one added.
        mine.update(from: incoming, count: chunk)
        for r in 1..<size { T.add(incoming + r * chunk, into: mine, count: chunk) }
        return UnsafeMutableBufferPointer(start: mine, count: chunk)
    }

    /// Every process's chunk of `buffer` (as ``reduceShare(_:)`` cut it) into every process's `buffer`.
    func gatherShares<T: MessageElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws(MessagePassingError) {
        let n = buffer.count
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * size) { table throws(MessagePassingError) in
            for r in 0..<size {
                table[r] = Int32((r + 1) * n / size - r * n / size)
                table[size + r] = Int32(r * n / size)
            }
            try MessagePassingError.check(
                MPI_Allgatherv(cmpi_in_place(), 0, T.datatype, buffer.baseAddress!, table.baseAddress!, table.baseAddress! + size,
                               T.datatype, handle), "MPI_Allgatherv")
        }
    }

    /// `count` elements as pieces whose counts fit MPI's Int32.
    static func pieces(_ count: Int, limit: Int = Int(Int32.max)) -> LazyMapSequence<StrideTo<Int>, (start: Int, count: Int32)> {
        stride(from: 0, to: count, by: max(limit, 1)).lazy.map { ($0, Int32(min(limit, count - $0))) }
    }
}
