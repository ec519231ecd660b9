import CMPI

/// The rank-order sum for processes on one machine, through memory they share (an MPI-3 shared
/// window): each process writes its addend into its own segment, process r adds chunk r of
/// every segment in rank order, and all read the sum where it was made. No message is copied;
/// what remains is two barriers and the additions, split across the processes.
///
/// Each segment has two areas used in turn, so that a process may write its next addend while
/// a slower one still reads the previous sum.
final class SharedSummation {
    let communicator: MPI_Comm
    let (rank, size): (Int, Int)
    var window: MPI_Win?
    /// Every process's segment (its two areas), in rank order.
    var segments: [UnsafeMutableRawPointer] = []
    /// Bytes per area.
    var areaBytes = 0
    /// The area the next addend goes into.
    var area = 0
    /// The area of the last ``sumShare(count:of:)``.
    var lastOffset = 0

    init(communicator: MPI_Comm, rank: Int, size: Int) {
        (self.communicator, self.rank, self.size) = (communicator, rank, size)
    }

    deinit {
        if window != nil { MPI_Win_unlock_all(window); MPI_Win_free(&window) }
    }

    /// Where this process writes its next addend of `count` elements. Collective when the
    /// window must grow (every process asks for the same count).
    func addend<T: MessageElement>(count: Int, of: T.Type) throws(MessagePassingError) -> UnsafeMutableBufferPointer<T> {
        let bytes = count * MemoryLayout<T>.stride
        if bytes > areaBytes { try allocate(areaBytes: max(bytes, 4096)) }
        return UnsafeMutableBufferPointer(
            start: (segments[rank] + area * areaBytes).bindMemory(to: T.self, capacity: count), count: count)
    }

    /// The rank-order sum of every process's addend (``addend(count:of:)``), of which this
    /// process makes and gets only chunk `rank`, in process 0's area, where it may overwrite it
    /// with its share of a result for ``gatherShares(count:of:)``.
    func sumShare<T: MessageElement>(count: Int, of: T.Type) throws(MessagePassingError) -> UnsafeMutableBufferPointer<T> {
        precondition(count * MemoryLayout<T>.stride <= areaBytes, "SharedSummation: \(count) elements without an addend buffer")
        let offset = area * areaBytes
        area ^= 1
        lastOffset = offset
        try synchronize()
        let (low, high) = (rank * count / size, (rank + 1) * count / size)
        let target = (segments[0] + offset).assumingMemoryBound(to: T.self) + low
        for r in 1..<size {
            T.add((segments[r] + offset).assumingMemoryBound(to: T.self) + low, into: target, count: high - low)
        }
        return UnsafeMutableBufferPointer(start: target, count: high - low)
    }

    /// Every process's share, once all have written theirs (the whole sum when they wrote
    /// nothing over it), valid until the sum after next.
    func gatherShares<T: MessageElement>(count: Int, of: T.Type) throws(MessagePassingError) -> UnsafeBufferPointer<T> {
        try synchronize()
        return UnsafeBufferPointer(start: (segments[0] + lastOffset).assumingMemoryBound(to: T.self), count: count)
    }

    /// Every process's writes to the window are visible to all (MPI's unified-model idiom:
    /// sync, barrier, sync).
    func synchronize() throws(MessagePassingError) {
        try MessagePassingError.check(MPI_Win_sync(window), "MPI_Win_sync")
        try MessagePassingError.check(MPI_Barrier(communicator), "MPI_Barrier")
        try MessagePassingError.check(MPI_Win_sync(window), "MPI_Win_sync")
    }

    func allocate(areaBytes bytes: Int) throws(MessagePassingError) {
        if window != nil {
            MPI_Win_unlock_all(window)
            try MessagePassingError.check(MPI_Win_free(&window), "MPI_Win_free")
        }
        var base: UnsafeMutableRawPointer?
        try MessagePassingError.check(
            MPI_Win_allocate_shared(MPI_Aint(2 * bytes), 1, cmpi_info_null(), communicator, &base, &window),
            "MPI_Win_allocate_shared")
        try MessagePassingError.check(MPI_Win_lock_all(cmpi_mode_nocheck(), window), "MPI_Win_lock_all")
        segments = []
        for r in 0..<size {
            var size: MPI_Aint = 0
            var unit: Int32 = 0
            var pointer: UnsafeMutableRawPointer?
            try MessagePassingError.check(MPI_Win_shared_query(window, Int32(r), &size, &unit, &pointer), "MPI_Win_shared_query")
            segments.append(pointer!)
        }
        (areaBytes, area) = (bytes, 0)
    }
}
