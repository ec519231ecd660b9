import Synchronization

/// Where the header of a tape (its ``TapeStorage``) comes from and goes back to. A header is
/// never freed: a ``Variable`` holds a pointer to it, not the tape, so a variable that outlives
/// its tape still points at valid memory, finds a tape ID that is not its own, and stops with a
/// message instead of reading freed memory. A header keeps small arenas for the next tape
/// (see ``TapeStorage/retire()``); large ones are freed with the tape. Used when a tape is
/// created or deallocated, never while recording.
@usableFromInline
enum TapeHeaderPool {
    /// Idle headers (their addresses, whether they still hold arenas, whether those are the
    /// large set) by scalar type: a header is only ever reused for the same `Scalar`. Headers
    /// with arenas are taken first.
    static let idle = Mutex<[ObjectIdentifier: [(address: UInt, warm: Bool, large: Bool)]]>([:])
    /// The scalar types whose one large arena set (``TapeStorage/keptLargeArenaBytes``) is taken:
    /// idle in the pool, or reserved by a tape being deallocated.
    static let largeKept = Mutex<Set<ObjectIdentifier>>([])
    /// Tape IDs are never reused, so a stale variable cannot match a later tape on its header.
    static let nextID = Atomic<UInt64>(1)

    /// A header holding a fresh ``TapeStorage`` with a new tape ID.
    static func take<Scalar: TensorScalar>(_: Scalar.Type) -> UnsafeMutablePointer<TapeStorage<Scalar>> {
        let reused = idle.withLock { $0[ObjectIdentifier(Scalar.self)]?.popLast() }
        if let reused, reused.large { _ = largeKept.withLock { $0.remove(ObjectIdentifier(Scalar.self)) } }
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

    /// Retires the header of a deallocated tape and takes it back: with its arenas when they are
    /// small, or when they are large and no other large set of this scalar type is kept.
    static func retire<Scalar: TensorScalar>(_ storage: UnsafeMutablePointer<TapeStorage<Scalar>>) {
        let type = ObjectIdentifier(Scalar.self)
        let reserved = largeKept.withLock { $0.insert(type).inserted }
        let kept = storage.pointee.retire(largeLimit: reserved ? TapeStorage<Scalar>.keptLargeArenaBytes : 0)
        let large = kept > TapeStorage<Scalar>.keptArenaBytes
        if reserved && !large { _ = largeKept.withLock { $0.remove(type) } }
        giveBack(storage, warm: kept > 0, large: large)
    }

    /// Takes back a retired header: with its arenas when `warm`.
    static func giveBack<Scalar: TensorScalar>(_ storage: UnsafeMutablePointer<TapeStorage<Scalar>>, warm: Bool, large: Bool) {
        idle.withLock { pool in
            let header = (address: UInt(bitPattern: storage), warm: warm, large: large)
            // Cold headers go to the bottom, so the next tape takes a warm one.
            if warm { pool[ObjectIdentifier(Scalar.self), default: []].append(header) }
            else { pool[ObjectIdentifier(Scalar.self), default: []].insert(header, at: 0) }
        }
    }
}
