/// One recorded operation (or leaf) of a tape: where its value lives, its shape, which entries
/// it read, and the few numbers its pullback needs besides them.
///
/// Laid out in 64 bytes (a cache line, and a shift instead of a multiply to index the list):
/// the scalar step reads an entry per operand.
@usableFromInline
struct TapeEntry<Scalar: TensorScalar> {
    @usableFromInline var valueOffset: Int
    @usableFromInline var count: Int
    @usableFromInline var shapeOffset: Int
    @usableFromInline var auxScalar: Scalar
    @usableFromInline var auxInt: Int
    @usableFromInline var savedOffset: Int
    @usableFromInline var inputs: (Int32, Int32, Int32)
    @usableFromInline var storedRank: UInt8
    @usableFromInline var requiresGradient: Bool
    /// The built-in pullback, `.storedClosure`, or `.none` when there is no pullback.
    @usableFromInline var rule: RuleCode = .none
    /// ``scalarOpFlag`` and ``inputListFlag``.
    @usableFromInline var flags: UInt8 = 0

    /// A rank-0 result of a built-in rule whose inputs are rank 0 too: its pullback is
    /// ``RuleCode/runScalar(_:entries:values:gradients:last:)``, plain arithmetic on slots.
    @inlinable static var scalarOpFlag: UInt8 { 1 }
    /// The op's inputs are listed in the int arena where its saved ints start: their count,
    /// then their indices (ops of more than three inputs; `inputs` holds the first three).
    @inlinable static var inputListFlag: UInt8 { 2 }

    /// See ``scalarOpFlag``.
    @inlinable var isScalarOp: Bool { flags & Self.scalarOpFlag != 0 }
    /// See ``inputListFlag``.
    @inlinable var hasInputList: Bool { flags & Self.inputListFlag != 0 }
    /// During a backward pass: the gradient (of more than a few elements) has not been touched
    /// yet and holds garbage; the first pullback to reach it zeroes it, or overwrites it whole
    /// (``TapeValue/gradientToWrite``), instead of a pass zeroing every gradient up front.
    @inlinable static var gradientPendingFlag: UInt8 { 4 }
    /// See ``gradientPendingFlag``.
    @inlinable var isGradientPending: Bool { flags & Self.gradientPendingFlag != 0 }

    @inlinable
    init(valueOffset: Int, count: Int, shapeOffset: Int, rank: Int, inputs: (Int32, Int32, Int32),
         requiresGradient: Bool, auxScalar: Scalar, auxInt: Int, savedOffset: Int) {
        self.valueOffset = valueOffset
        self.count = count
        self.shapeOffset = shapeOffset
        self.storedRank = UInt8(truncatingIfNeeded: rank)
        self.inputs = inputs
        self.requiresGradient = requiresGradient
        self.auxScalar = auxScalar
        self.auxInt = auxInt
        self.savedOffset = savedOffset
    }

    /// The number of dimensions.
    @inlinable var rank: Int { Int(storedRank) }
    /// Where the op's input list (if any) and the integers it saved start in the int arena
    /// (after the shape).
    @inlinable var savedIntOffset: Int { shapeOffset &+ Int(storedRank) }
}

/// The mutable state of a ``Tape``: the entry list and three arenas (values, gradients, ints)
/// in raw pointer buffers that grow by doubling and are reset by count, so steady-state steps
/// allocate nothing. It lives behind an `UnsafeMutablePointer` owned by the tape: stored
/// properties of a class would pay a runtime exclusivity check on every access.
@usableFromInline
struct TapeStorage<Scalar: TensorScalar> {
    /// The pullback closure wrapped in a struct: stored in a generic buffer as a bare function
    /// value it would need a reabstraction thunk, a heap allocation per recorded op.
    @usableFromInline
    struct StoredPullback {
        @usableFromInline let body: (OpContext<Scalar>) -> Void
        @inlinable init(_ body: @escaping (OpContext<Scalar>) -> Void) { self.body = body }
    }
    @usableFromInline typealias Pullback = StoredPullback

    @usableFromInline var entries: UnsafeMutablePointer<TapeEntry<Scalar>>
    @usableFromInline var pullbacks: UnsafeMutablePointer<Pullback?>
    /// The forward of each entry recorded with a ``ForwardKernel`` (``ReplayKind/kernel``), for
    /// replays: a closure of the specialised kernel, so a replay runs the same code as recording.
    @usableFromInline var forwards: UnsafeMutablePointer<Pullback?>
    /// The op name of each entry recorded by the general path (see ``TapeGraph``).
    @usableFromInline var names: UnsafeMutablePointer<StaticString>
    /// How a compiled program runs each entry's forward again (rank-0 rule results need none:
    /// their flag and code say it).
    @usableFromInline var replayKinds: UnsafeMutablePointer<ReplayKind>
    @usableFromInline var count = 0
    @usableFromInline var capacity: Int

    @usableFromInline var values: UnsafeMutablePointer<Scalar>
    @usableFromInline var valuesUsed = 0
    @usableFromInline var valuesCapacity: Int
    @usableFromInline var gradients: UnsafeMutablePointer<Scalar>?
    @usableFromInline var gradientsCapacity = 0
    @usableFromInline var ints: UnsafeMutablePointer<Int>
    @usableFromInline var intsUsed = 0
    @usableFromInline var intsCapacity: Int

    @usableFromInline var scratch: UnsafeMutablePointer<Scalar>?
    @usableFromInline var scratchUsed = 0
    @usableFromInline var scratchCapacity = 0
    @usableFromInline var retiredScratch: [UnsafeMutablePointer<Scalar>] = []

    /// Entries below this index are parameters and survive `reset()`.
    @usableFromInline var persistentCount = 0
    @usableFromInline var persistentValuesUsed = 0
    @usableFromInline var persistentIntsUsed = 0
    /// Bumped by every reset; a Variable from an older generation is stale.
    @usableFromInline var generation: UInt32 = 1
    /// The generation whose gradients are in `gradients`, or 0.
    @usableFromInline var gradientGeneration: UInt32 = 0
    /// The loss of the last backward pass: later entries have no gradient.
    @usableFromInline var gradientLimit = -1
    @usableFromInline var recording = true
    @usableFromInline var matrixThreads: Int?
    @usableFromInline var inBackward = false
    /// How many entries are marked ``TapeEntry/gradientPendingFlag`` in the running backward pass.
    @usableFromInline var pendingGradients = 0
    /// See ``AnomalyDetection``.
    @usableFromInline var anomalyDetection: AnomalyDetection = .off
    /// The call site of the public op being recorded (line 0: none), set by the outermost one.
    @usableFromInline var currentSite = SourceSite(file: "", line: 0)
    /// Each entry's call site, kept while anomaly detection is on.
    @usableFromInline var sites: [SourceSite] = []
    /// The first anomaly found (``AnomalyDetection/record``).
    @usableFromInline var anomaly: Anomaly?
    /// Set while a ``CompiledFunction`` records: every value the recorded code reads is noted in
    /// ``valueReads`` (a decision the replay must check), and what a replay cannot repeat in
    /// ``replayBlocker``.
    @usableFromInline var compiling = false
    /// The entries whose values were read while compiling, with the entry count at the read.
    @usableFromInline var valueReads: [(entry: Int, after: Int)] = []
    /// The comparisons of one-element values the code branched on while compiling.
    @usableFromInline var comparisons: [RecordedComparison<Scalar>] = []
    /// Why the recording cannot be replayed (a backward pass or a reset inside it), or nil.
    @usableFromInline var replayBlocker: String?
    /// The ID of the tape using this storage; 0 once that tape is deallocated (see
    /// ``TapeHeaderPool``). Every ``Variable`` carries the ID of its tape.
    @usableFromInline var tapeID: UInt64 = 0
    /// The tape using this storage, not retained (the tape owns its storage).
    @usableFromInline var owner: Unmanaged<Tape<Scalar>>?

    init() {
        capacity = 64
        entries = Self.allocateEntries(capacity)
        pullbacks = .allocate(capacity: capacity)
        pullbacks.initialize(repeating: nil, count: capacity)
        forwards = .allocate(capacity: capacity)
        forwards.initialize(repeating: nil, count: capacity)
        names = .allocate(capacity: capacity)
        names.initialize(repeating: "", count: capacity)
        replayKinds = .allocate(capacity: capacity)
        replayKinds.initialize(repeating: .closure, count: capacity)
        valuesCapacity = 1024
        values = .allocate(capacity: valuesCapacity)
        intsCapacity = 256
        ints = .allocate(capacity: intsCapacity)
    }

    /// Fresh storage that takes over the arenas of a retired one (see ``retire()``): empty, with
    /// every setting at its default, and no allocation.
    init(arenasOf old: TapeStorage) {
        capacity = old.capacity
        entries = old.entries
        pullbacks = old.pullbacks
        forwards = old.forwards
        names = old.names
        replayKinds = old.replayKinds
        valuesCapacity = old.valuesCapacity
        values = old.values
        intsCapacity = old.intsCapacity
        ints = old.ints
        gradients = old.gradients
        gradientsCapacity = old.gradientsCapacity
        scratch = old.scratch
        scratchCapacity = old.scratchCapacity
    }

    /// The most bytes of arenas a deallocated tape leaves to the next tape of its type. Fresh
    /// tapes in a loop (the functional API: one tape per call) then record without allocating
    /// or faulting in pages.
    static var keptArenaBytes: Int { 4 << 20 }
    /// The most bytes of the one large arena set each scalar type may keep besides (a
    /// functional-API call on large tensors, called again and again); larger ones are freed.
    static var keptLargeArenaBytes: Int { 256 << 20 }

    /// Marks the storage as belonging to no tape and drops every pullback (with what it
    /// captured). Keeps the arenas when they are small, or up to `largeLimit` bytes when that
    /// is more, else frees them: the size kept (0: none).
    mutating func retire(largeLimit: Int = 0) -> Int {
        pullbacks.update(repeating: nil, count: capacity)
        forwards.update(repeating: nil, count: capacity)
        for block in retiredScratch { block.deallocate() }
        retiredScratch = []
        tapeID = 0
        owner = nil
        let scalars = valuesCapacity + gradientsCapacity + scratchCapacity
        let bytes = scalars * MemoryLayout<Scalar>.stride + capacity * (MemoryLayout<TapeEntry<Scalar>>.stride + 16 + MemoryLayout<StaticString>.stride
                                                                 + MemoryLayout<ReplayKind>.stride)
            + intsCapacity * 8
        guard bytes <= Swift.max(Self.keptArenaBytes, largeLimit) else {
            release()
            return 0
        }
        return Swift.max(bytes, 1)
    }

    /// Frees the arenas and marks the storage as belonging to no tape. The struct stays
    /// initialised (its header is reused, see ``TapeHeaderPool``).
    mutating func release() {
        pullbacks.deinitialize(count: capacity)
        pullbacks.deallocate()
        forwards.deinitialize(count: capacity)
        forwards.deallocate()
        names.deallocate()
        replayKinds.deallocate()
        UnsafeMutableRawPointer(entries).deallocate()
        values.deallocate()
        gradients?.deallocate()
        gradients = nil
        ints.deallocate()
        scratch?.deallocate()
        scratch = nil
        for block in retiredScratch { block.deallocate() }
        retiredScratch = []
        tapeID = 0
        owner = nil
    }

    // MARK: Growth (cold paths, kept out of line)

    /// Room for `capacity` entries, aligned to a cache line so that no entry straddles two.
    static func allocateEntries(_ capacity: Int) -> UnsafeMutablePointer<TapeEntry<Scalar>> {
        let stride = MemoryLayout<TapeEntry<Scalar>>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * stride, alignment: 64)
        // Zero bytes are a valid entry (every field an integer, a Bool or a raw-0 enum), so the
        // whole list is initialised and ``appendScalar`` may store only the fields it uses.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * stride)
        return raw.bindMemory(to: TapeEntry<Scalar>.self, capacity: capacity)
    }

    @usableFromInline @inline(never)
    mutating func growEntries() {
        let newCapacity = capacity * 2
        let newEntries = Self.allocateEntries(newCapacity)
        newEntries.moveInitialize(from: entries, count: count)
        UnsafeMutableRawPointer(entries).deallocate()
        entries = newEntries
        let newPullbacks = UnsafeMutablePointer<Pullback?>.allocate(capacity: newCapacity)
        newPullbacks.moveInitialize(from: pullbacks, count: capacity)
        (newPullbacks + capacity).initialize(repeating: nil, count: newCapacity - capacity)
        pullbacks.deallocate()
        pullbacks = newPullbacks
        let newForwards = UnsafeMutablePointer<Pullback?>.allocate(capacity: newCapacity)
        newForwards.moveInitialize(from: forwards, count: capacity)
        (newForwards + capacity).initialize(repeating: nil, count: newCapacity - capacity)
        forwards.deallocate()
        forwards = newForwards
        let newNames = UnsafeMutablePointer<StaticString>.allocate(capacity: newCapacity)
        newNames.moveInitialize(from: names, count: capacity)
        (newNames + capacity).initialize(repeating: "", count: newCapacity - capacity)
        names.deallocate()
        names = newNames
        let newKinds = UnsafeMutablePointer<ReplayKind>.allocate(capacity: newCapacity)
        newKinds.moveInitialize(from: replayKinds, count: capacity)
        (newKinds + capacity).initialize(repeating: .closure, count: newCapacity - capacity)
        replayKinds.deallocate()
        replayKinds = newKinds
        capacity = newCapacity
    }

    @usableFromInline @inline(never)
    mutating func growValues(toFit needed: Int) {
        let newCapacity = max(valuesCapacity * 2, needed)
        let newValues = UnsafeMutablePointer<Scalar>.allocate(capacity: newCapacity)
        newValues.moveInitialize(from: values, count: valuesUsed)
        values.deallocate()
        values = newValues
        valuesCapacity = newCapacity
    }

    @usableFromInline @inline(never)
    mutating func growInts(toFit needed: Int) {
        let newCapacity = max(intsCapacity * 2, needed)
        let newInts = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        newInts.moveInitialize(from: ints, count: intsUsed)
        ints.deallocate()
        ints = newInts
        intsCapacity = newCapacity
    }

    // MARK: Allocation in the arenas

    /// Reserves `n` scalars in the value arena, 8-aligned so vector loads stay on cache lines
    /// (rank-0 results of ``appendScalar(_:inputs:requiresGradient:auxScalar:rule:)`` take one
    /// slot each, unaligned).
    @inlinable @inline(__always)
    mutating func reserveValues(_ n: Int) -> Int {
        let offset = (valuesUsed + 7) & ~7
        let end = offset + ((n + 7) & ~7)
        if end > valuesCapacity { growValues(toFit: end) }
        valuesUsed = end
        return offset
    }

    @inlinable
    mutating func reserveInts(_ n: Int) -> Int {
        let offset = intsUsed
        if offset + n > intsCapacity { growInts(toFit: offset + n) }
        intsUsed = offset + n
        return offset
    }

    /// Appends an entry of `shape` with room for its value (and saved data); returns its index.
    @inlinable
    mutating func append(
        op: StaticString, shape: [Int], inputs: (Int32, Int32, Int32), requiresGradient: Bool,
        auxScalar: Scalar, auxInt: Int, savedScalars: Int, savedInts: Int
    ) -> Int {
        Failure.check(shape.count <= Int(UInt8.max), "tape: values of rank above 255 are not supported (rank \(shape.count))")
        let elements = ShapeMath.checkedCount(shape, op: "tape")
        let index = append(op: op, rank: shape.count, elements: elements, inputs: inputs, requiresGradient: requiresGradient,
                           auxScalar: auxScalar, auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts)
        let offset = entries[index].shapeOffset
        for i in 0..<shape.count { ints[offset + i] = shape[i] }
        return index
    }

    /// Appends an entry of shape `[rows, columns]` (no shape array is built: a training step
    /// allocates nothing).
    @inlinable @inline(__always)
    mutating func append(
        op: StaticString, rows: Int, columns: Int, inputs: (Int32, Int32, Int32), requiresGradient: Bool,
        auxScalar: Scalar, auxInt: Int, savedScalars: Int, savedInts: Int
    ) -> Int {
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns)
        if overflow || rows < 0 || columns < 0 { _ = ShapeMath.checkedCount([rows, columns], op: "tape") }
        let index = append(op: op, rank: 2, elements: elements, inputs: inputs, requiresGradient: requiresGradient,
                           auxScalar: auxScalar, auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts)
        let offset = entries[index].shapeOffset
        (ints[offset], ints[offset + 1]) = (rows, columns)
        return index
    }

    /// Appends an entry with the same shape as entry `source` (no shape array is built, which
    /// keeps elementwise ops on scalars free of reference counting).
    @inlinable @inline(__always)
    mutating func append(
        op: StaticString, shapeOf source: Int, inputs: (Int32, Int32, Int32), requiresGradient: Bool,
        auxScalar: Scalar, auxInt: Int, savedScalars: Int, savedInts: Int
    ) -> Int {
        let model = entries[source]
        let index = append(op: op, rank: model.rank, elements: model.count, inputs: inputs, requiresGradient: requiresGradient,
                           auxScalar: auxScalar, auxInt: auxInt, savedScalars: savedScalars, savedInts: savedInts)
        let offset = entries[index].shapeOffset
        for i in 0..<model.rank { ints[offset + i] = ints[model.shapeOffset + i] }
        return index
    }

    @inlinable @inline(__always)
    mutating func append(
        op: StaticString, rank: Int, elements: Int, inputs: (Int32, Int32, Int32), requiresGradient: Bool,
        auxScalar: Scalar, auxInt: Int, savedScalars: Int, savedInts: Int
    ) -> Int {
        if count == capacity { growEntries() }
        // The name, for the graph and for anomaly reports (rank-0 rule results are named by their code).
        names[count] = op
        // Not replayable unless the recording says otherwise (a leaf, a rule, a forward kernel).
        replayKinds[count] = .closure
        let valueOffset = reserveValues(elements)
        let savedOffset = savedScalars > 0 ? reserveValues(savedScalars) : valueOffset
        let shapeOffset = rank + savedInts > 0 ? reserveInts(rank + savedInts) : intsUsed
        let index = count
        (entries + index).initialize(to: TapeEntry(
            valueOffset: valueOffset, count: elements, shapeOffset: shapeOffset, rank: rank,
            inputs: inputs, requiresGradient: requiresGradient, auxScalar: auxScalar, auxInt: auxInt,
            savedOffset: savedOffset))
        // Every slot of `pullbacks` is always initialised; an old closure stays in its slot until
        // a new one replaces it, and is never run: only entries marked `.storedClosure` are.
        count = index + 1
        return index
    }

    /// Appends the rank-0 result `value` of a built-in rule applied to rank-0 inputs: one value
    /// slot, no shape, no saved data; the scalar step of a small model is mostly this.
    @inlinable @inline(__always)
    mutating func appendScalar(
        _ value: Scalar, inputs: (Int32, Int32, Int32), requiresGradient: Bool, auxScalar: Scalar,
        rule: RuleCode
    ) -> Int {
        if count == capacity { growEntries() }
        let valueOffset = valuesUsed
        if valueOffset >= valuesCapacity { growValues(toFit: valueOffset + 1) }
        valuesUsed = valueOffset + 1
        values[valueOffset] = value
        let index = count
        // Only what a rank-0 op reads; shape, saved-data and auxInt fields keep whatever an
        // earlier entry left there (a rank-0 value has no shape, a built-in rule saves nothing).
        let entry = entries + index
        entry.pointee.valueOffset = valueOffset
        entry.pointee.count = 1
        entry.pointee.auxScalar = auxScalar
        entry.pointee.inputs = inputs
        entry.pointee.storedRank = 0
        entry.pointee.requiresGradient = requiresGradient
        entry.pointee.rule = rule
        entry.pointee.flags = TapeEntry<Scalar>.scalarOpFlag
        count = index + 1
        return index
    }

    /// The number of inputs of entry `index`.
    @inlinable
    func inputCount(_ index: Int) -> Int {
        let entry = entries[index]
        if entry.hasInputList { return ints[entry.savedIntOffset] }
        return entry.inputs.0 < 0 ? 0 : (entry.inputs.1 < 0 ? 1 : (entry.inputs.2 < 0 ? 2 : 3))
    }

    /// The entry index of input `i` of entry `index`.
    @inlinable
    func input(_ i: Int, of index: Int) -> Int {
        let entry = entries[index]
        if entry.hasInputList { return ints[entry.savedIntOffset &+ 1 &+ i] }
        return Int(i == 0 ? entry.inputs.0 : (i == 1 ? entry.inputs.1 : entry.inputs.2))
    }

    /// The entry indices entry `index` reads, in order (for the graph and anomaly reports).
    func inputIndices(_ index: Int) -> [Int] {
        (0..<inputCount(index)).map { input($0, of: index) }
    }

    /// Where the ints an op asked to save start (after its input list, if any).
    @inlinable
    func userSavedIntOffset(_ index: Int) -> Int {
        let entry = entries[index]
        let offset = entry.savedIntOffset
        return entry.hasInputList ? offset &+ 1 &+ ints[offset] : offset
    }

    /// Whether entries `a` and `b` have the same shape.
    @inlinable @inline(__always)
    func sameShape(_ a: Int, _ b: Int) -> Bool {
        let (ea, eb) = (entries[a], entries[b])
        if ea.rank != eb.rank || ea.count != eb.count { return false }
        for i in 0..<ea.rank where ints[ea.shapeOffset + i] != ints[eb.shapeOffset + i] { return false }
        return true
    }

    /// The shape of entry `index`.
    @inlinable
    func shape(_ index: Int) -> [Int] {
        let entry = entries[index]
        if entry.rank == 0 { return [] }
        return Array(UnsafeBufferPointer(start: ints + entry.shapeOffset, count: entry.rank))
    }

    /// Drops every non-parameter entry, keeping all capacity.
    @inlinable
    mutating func reset() {
        count = persistentCount
        valuesUsed = persistentValuesUsed
        intsUsed = persistentIntsUsed
        generation &+= 1
        if generation == 0 { generation = 1 }
        gradientGeneration = 0
    }

    /// Whether entry `index`'s gradient was pending (see ``TapeEntry/gradientPendingFlag``),
    /// clearing the mark: the caller then zeroes the gradient or overwrites all of it.
    @inlinable
    mutating func claimPendingGradient(_ index: Int) -> Bool {
        guard entries[index].isGradientPending else { return false }
        entries[index].flags &= ~TapeEntry<Scalar>.gradientPendingFlag
        pendingGradients &-= 1
        return true
    }

    /// Scratch memory valid until the end of the current forward or pullback call.
    @inlinable
    mutating func scratchBuffer(_ n: Int) -> UnsafeMutablePointer<Scalar> {
        let size = (n + 7) & ~7
        if scratchUsed + size > scratchCapacity { growScratch(size) }
        let pointer = scratch.unsafelyUnwrapped + scratchUsed
        scratchUsed += size
        return pointer
    }

    @usableFromInline @inline(never)
    mutating func growScratch(_ size: Int) {
        // Earlier scratch pointers of this call stay valid: the old block retires until the
        // call ends; the new one is big enough for both, so steady state keeps one block.
        if let old = scratch {
            if scratchUsed > 0 { retiredScratch.append(old) } else { old.deallocate() }
        }
        let newCapacity = max(scratchCapacity * 2, scratchCapacity + size, 1024)
        scratch = .allocate(capacity: newCapacity)
        scratchCapacity = newCapacity
        scratchUsed = 0
    }

    @inlinable @inline(__always)
    mutating func endScratch() {
        scratchUsed = 0
        if retiredScratch.count != 0 { releaseRetiredScratch() }
    }

    @usableFromInline @inline(never)
    mutating func releaseRetiredScratch() {
        for block in retiredScratch { block.deallocate() }
        retiredScratch.removeAll()
    }
}
