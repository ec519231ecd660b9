import Synchronization

/// Where the header of a tape (its ``TapeStorage``) comes from and goes back to. A header is
/// never freed: a ``Variable`` holds a pointer to it, not the tape, so a variable that outlives
/// its tape still points at valid memory, finds a tape ID that is not its own, and stops with a
/// message instead of reading freed memory. A header keeps small arenas for the next tape
/// (see ``TapeStorage/retire()``); large ones are freed with the tape. Used when a tape is
/// created or deallocated, never while recording.
@usableFromInline
enum TapeHeaderPool {
    /// Idle headers (their addresses, and whether they still hold arenas) by scalar type: a
    /// header is only ever reused for the same `Scalar`. Headers with arenas are taken first.
    static let idle = Mutex<[ObjectIdentifier: [(address: UInt, warm: Bool)]]>([:])
    /// Tape IDs are never reused, so a stale variable cannot match a later tape on its header.
    static let nextID = Atomic<UInt64>(1)

    /// A header holding a fresh ``TapeStorage`` with a new tape ID.
    static func take<Scalar: TensorScalar>(_: Scalar.Type) -> UnsafeMutablePointer<TapeStorage<Scalar>> {
        let reused = idle.withLock { $0[ObjectIdentifier(Scalar.self)]?.popLast() }
        let storage: UnsafeMutablePointer<TapeStorage<Scalar>>
        if let reused, let address = UnsafeMutableRawPointer(bitPattern: reused.address) {
            storage = address.assumingMemoryBound(to: TapeStorage<Scalar>.self)
            storage.pointee = reused.warm ? TapeStorage(arenasOf: storage.pointee) : TapeStorage()
        } else {
            // Whole cache lines: tapes on different threads write their headers on every op,
            // and two headers sharing a line would bounce it between the cores.
            let bytes = (MemoryLayout<TapeStorage<Scalar>>.size + 63) & ~63
            storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                .bindMemory(to: TapeStorage<Scalar>.self, capacity: 1)
            storage.initialize(to: TapeStorage())
        }
        storage.pointee.tapeID = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        return storage
    }

    /// Takes back the header of a deallocated tape, retired: with its arenas when `warm`.
    static func giveBack<Scalar: TensorScalar>(_ storage: UnsafeMutablePointer<TapeStorage<Scalar>>, warm: Bool) {
        idle.withLock { pool in
            let header = (address: UInt(bitPattern: storage), warm: warm)
            // Cold headers go to the bottom, so the next tape takes a warm one.
            if warm { pool[ObjectIdentifier(Scalar.self), default: []].append(header) }
            else { pool[ObjectIdentifier(Scalar.self), default: []].insert(header, at: 0) }
        }
    }
}
