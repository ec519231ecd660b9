// Fusion of a recorded program: chains of elementwise rule ops over one shape, and the sum that
// ends a chain, run block by block (a few hundred elements, in L1) instead of op by op over
// whole tensors, so the intermediates are neither written to memory nor read back, forward
// and backward. Each block's values and gradients come from the same rules as the tape's, so
// a fused program differs from the tape only in the order of the sums over broadcast operands
// and of the final total (bounded in the tests).

/// What a fused region can use a kernel for.
@usableFromInline
enum FusionRole {
    /// Nothing: the op runs on its own.
    case none
    /// Σ of all elements times auxScalar: may end a region.
    case sumAll
    /// Σ along axis auxInt times auxScalar: may end a region when the axis is the last.
    case sumAlongAxis
}

/// Where an operand of a fused op comes from.
@usableFromInline
enum FusedOperand {
    /// The value of the region's op at this index.
    case op(Int)
    /// An entry outside the region (``FusedRegion/externals``).
    case external(Int)
}

/// One elementwise rule op of a region.
@usableFromInline
struct FusedOp {
    @usableFromInline let rule: RuleCode
    @usableFromInline let a: FusedOperand
    @usableFromInline let b: FusedOperand?
    /// The entry whose op this is (its auxScalar is the rule's constant).
    @usableFromInline let entry: Int
}

/// An entry read by a region, broadcast to the region's shape.
@usableFromInline
struct FusedExternal {
    @usableFromInline let entry: Int
    /// The region's shape as this operand walks it: axes of length 1 dropped, and adjacent
    /// axes merged where the operand steps through them as one (`[n, n, 3]` read by a
    /// `[1, n, 3]` operand is `[n, 3n]` with steps `[0, 1]`), at least one axis.
    @usableFromInline let extents: [Int]
    /// The operand's element step along each of ``extents`` (0 along broadcast axes).
    @usableFromInline let steps: [Int]
    /// It has the region's shape: its elements are read in place.
    @usableFromInline let isDense: Bool

    init(entry: Int, shape: [Int], strides: AxisValues, isDense: Bool) {
        self.entry = entry
        self.isDense = isDense
        var extents: [Int] = [], steps: [Int] = []
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = extents.last, steps[steps.count - 1] == strides[d] &* shape[d] {
                extents[extents.count - 1] = last * shape[d]
                steps[steps.count - 1] = strides[d]
            } else {
                extents.append(shape[d])
                steps.append(strides[d])
            }
        }
        if extents.isEmpty { (extents, steps) = ([1], [0]) }
        (self.extents, self.steps) = (extents, steps)
    }
}

/// How a region ends.
@usableFromInline
enum FusedEnd {
    /// The last op's values are the region's output.
    case elementwise
    /// Σ of the last op's values, times the scale.
    case sumAll
    /// Σ along the last axis (rows of `length`), times the scale.
    case sumRows(length: Int)
}

/// Elementwise rule ops over one shape, and the sum that may end them, run block by block.
@usableFromInline
struct FusedRegion {
    @usableFromInline var count: Int
    @usableFromInline var ops: [FusedOp]
    @usableFromInline var externals: [FusedExternal]
    @usableFromInline var end: FusedEnd
    /// The entry the region writes (the last op, or the sum).
    @usableFromInline var output: Int
    /// Elements per block (whole rows for ``FusedEnd/sumRows(length:)``).
    @usableFromInline var block: Int
    /// The region ends in a sum of everything: its forward also runs the pullback for a unit
    /// gradient (see ``Tape/runRegionForward(_:memory:units:)``).
    @usableFromInline var preaccumulates: Bool { if case .sumAll = end { true } else { false } }
    /// Where each external's unit gradient starts in the plan's unit memory (nil: the external
    /// needs no gradient, or the region does not preaccumulate).
    @usableFromInline var unitOffsets: [Int?] = []
}

/// The fused regions of a program and what each entry does in a replay.
@usableFromInline
struct FusionPlan {
    @usableFromInline var regions: [FusedRegion] = []
    /// Per entry: -1 runs on its own, -2 is computed inside a region, r ≥ 0 runs region r.
    @usableFromInline var steps: [Int32] = []
    /// Scalars of block memory the largest region needs.
    @usableFromInline var scratchScalars = 0
    /// Scalars of unit-gradient memory all preaccumulating regions need together.
    @usableFromInline var unitScalars = 0

    @inlinable init() {}

    /// Elements per block: in L1 with a few buffers per op.
    @inlinable static var blockElements: Int { 2048 }
}

extension TapeStorage {
    /// Whether entry `index` is an elementwise rule op on tensors.
    func isFusableOp(_ index: Int) -> Bool {
        guard !entries[index].isScalarOp, entries[index].rank <= 8, case .rule = replayKinds[index] else { return false }
        return entries[index].rule != .none && entries[index].rule != .storedClosure
    }

    /// The fusion plan of entries 0..<end; `keep` are entries whose values must be written
    /// (read by the code while recording, the output). Entries computed inside a region stop
    /// requiring a gradient: the region's pullback carries theirs.
    mutating func planFusion(end: Int, keep: Set<Int>) -> FusionPlan {
        var plan = FusionPlan()
        var consumers = [[Int]](repeating: [], count: end)
        for i in 0..<end where !entries[i].isScalarOp || entries[i].rule != .none {
            for k in 0..<inputCount(i) { consumers[input(k, of: i)].append(i) }
        }
        // Chains, greedily: an op joins the chain of an operand of its shape.
        var chainOf = [Int](repeating: -1, count: end)
        var chains: [[Int]] = []
        for i in 0..<end where isFusableOp(i) {
            var joined: Int?
            for k in 0..<inputCount(i) {
                let operand = input(k, of: i)
                if chainOf[operand] >= 0 && sameShape(operand, i) { joined = operand; break }
            }
            if let operand = joined {
                chainOf[i] = chainOf[operand]
                chains[chainOf[i]].append(i)
            } else {
                chainOf[i] = chains.count
                chains.append([i])
            }
        }
        // Cut each chain after any member that something outside its group reads or that must
        // be kept, until no group has such a member before its last.
        var groups: [[Int]] = []
        for chain in chains {
            var pending = [chain]
            while let members = pending.popLast() {
                let inGroup = Set(members)
                if let cut = members.dropLast().firstIndex(where: { m in keep.contains(m) || consumers[m].contains { !inGroup.contains($0) } }) {
                    pending.append(Array(members[(cut + 1)...]))
                    pending.append(Array(members[...cut]))
                } else {
                    groups.append(members)
                }
            }
        }
        plan.steps = [Int32](repeating: -1, count: end)
        for members in groups {
            guard let last = members.last else { continue }
            var output = last
            var end = FusedEnd.elementwise
            // A sum that is the last op's only reader ends the region.
            if !keep.contains(last), consumers[last].count == 1, case .kernel(let role) = replayKinds[consumers[last][0]] {
                let sum = consumers[last][0]
                let rank = entries[last].rank
                if role == .sumAll {
                    (output, end) = (sum, .sumAll)
                } else if role == .sumAlongAxis && rank > 0 && entries[sum].auxInt == rank - 1 {
                    (output, end) = (sum, .sumRows(length: ints[entries[last].shapeOffset + rank - 1]))
                }
            }
            if members.count + (output == last ? 0 : 1) < 2 { continue }
            var region = makeRegion(members, output: output, end: end)
            region.unitOffsets = region.externals.map { external in
                guard region.preaccumulates && entries[external.entry].requiresGradient else { return nil }
                defer { plan.unitScalars += entries[external.entry].count }
                return plan.unitScalars
            }
            for m in members where m != output {
                plan.steps[m] = -2
                entries[m].requiresGradient = false
            }
            plan.steps[output] = Int32(plan.regions.count)
            plan.scratchScalars = Swift.max(plan.scratchScalars, region.block * (2 * region.ops.count + 2 * region.externals.count + 2))
            plan.regions.append(region)
        }
        return plan
    }

    /// The region of `members` (in order, one shape) ending at `output`.
    func makeRegion(_ members: [Int], output: Int, end: FusedEnd) -> FusedRegion {
        let shape = self.shape(members[0])
        var position: [Int: Int] = [:]
        var externals: [FusedExternal] = []
        var externalIndex: [Int: Int] = [:]
        func operand(_ entry: Int) -> FusedOperand {
            if let p = position[entry] { return .op(p) }
            if let e = externalIndex[entry] { return .external(e) }
            let operandShape = self.shape(entry)
            externalIndex[entry] = externals.count
            externals.append(FusedExternal(entry: entry, shape: shape,
                                           strides: BroadcastLayout.broadcastStrides(operandShape, to: shape),
                                           isDense: operandShape == shape))
            return .external(externals.count - 1)
        }
        var ops: [FusedOp] = []
        for m in members {
            let a = operand(input(0, of: m))
            let b = inputCount(m) > 1 ? operand(input(1, of: m)) : nil
            position[m] = ops.count
            ops.append(FusedOp(rule: entries[m].rule, a: a, b: b, entry: m))
        }
        let count = entries[members[0]].count
        var block = FusionPlan.blockElements
        if case .sumRows(let length) = end { block = Swift.max(1, block / Swift.max(length, 1)) * Swift.max(length, 1) }
        return FusedRegion(count: count, ops: ops, externals: externals, end: end, output: output,
                           block: Swift.min(block, Swift.max(count, 1)))
    }
}

/// A rule's forward on one block.
@usableFromInline
struct BlockForward<S: TensorScalar>: RuleVisitor {
    @usableFromInline let x, z: UnsafePointer<S>
    @usableFromInline let y: UnsafeMutablePointer<S>
    @usableFromInline let n: Int
    @usableFromInline let c: S
    @inlinable init(x: UnsafePointer<S>, z: UnsafePointer<S>, y: UnsafeMutablePointer<S>, n: Int, c: S) {
        (self.x, self.z, self.y, self.n, self.c) = (x, z, y, n, c)
    }
    @inlinable func unary<Rule: UnaryRule>(_: Rule.Type) { S.evaluate(Rule.self, x, into: y, count: n, c) }
    @inlinable func binary<Rule: BinaryRule>(_: Rule.Type) { for i in 0..<n { y[i] = S.evaluate(Rule.self, x[i], z[i]) } }
    @inlinable func noRule() {}
}

/// A rule's pullback on one block: gx += g·∂a, gz += g·∂b (the same loops as the tape's).
@usableFromInline
struct BlockPullback<S: TensorScalar>: RuleVisitor {
    @usableFromInline let g, x, z, y: UnsafePointer<S>
    @usableFromInline let gx, gz: UnsafeMutablePointer<S>?
    @usableFromInline let n: Int
    @usableFromInline let c: S
    @inlinable
    init(g: UnsafePointer<S>, x: UnsafePointer<S>, z: UnsafePointer<S>, y: UnsafePointer<S>,
         gx: UnsafeMutablePointer<S>?, gz: UnsafeMutablePointer<S>?, n: Int, c: S) {
        (self.g, self.x, self.z, self.y, self.gx, self.gz, self.n, self.c) = (g, x, z, y, gx, gz, n, c)
    }
    @inlinable func unary<Rule: UnaryRule>(_: Rule.Type) {
        if let gx { Rule.accumulateDerivative(g, x, y, into: gx, count: n, c) }
    }
    @inlinable func binary<Rule: BinaryRule>(_: Rule.Type) {
        if let gx, gx == gz {
            for i in 0..<n {
                let (da, db) = Rule.partials(x[i], z[i], y[i])
                gx[i] = (gx[i] + g[i] * da) + g[i] * db
            }
        } else if let gx, let gz {
            for i in 0..<n {
                let (da, db) = Rule.partials(x[i], z[i], y[i])
                gx[i] += g[i] * da
                gz[i] += g[i] * db
            }
        } else if let gx {
            for i in 0..<n { gx[i] += g[i] * Rule.partials(x[i], z[i], y[i]).0 }
        } else if let gz {
            for i in 0..<n { gz[i] += g[i] * Rule.partials(x[i], z[i], y[i]).1 }
        }
    }
    @inlinable func noRule() {}
}

/// The memory a region's blocks run in, carved from one buffer: per op its values and
/// gradients, per external its gathered values and gradient contributions.
@usableFromInline
struct RegionMemory<S: TensorScalar> {
    @usableFromInline let scalars: UnsafeMutablePointer<S>
    @usableFromInline let block: Int
    @usableFromInline let ops: Int

    @inlinable init(scalars: UnsafeMutablePointer<S>, block: Int, ops: Int) {
        (self.scalars, self.block, self.ops) = (scalars, block, ops)
    }

    @inlinable func value(_ op: Int) -> UnsafeMutablePointer<S> { scalars + op &* block }
    @inlinable func gradient(_ op: Int) -> UnsafeMutablePointer<S> { scalars + (ops &+ op) &* block }
    @inlinable func gathered(_ e: Int) -> UnsafeMutablePointer<S> { scalars + (2 &* ops &+ 2 &* e) &* block }
    @inlinable func contribution(_ e: Int) -> UnsafeMutablePointer<S> { scalars + (2 &* ops &+ 2 &* e &+ 1) &* block }
}

extension Tape {
    /// Calls `body(i, offset, run, step)` for each run of the region's elements start..<start + n
    /// along the operand's last merged axis: elements i..<i + run read the operand at offset,
    /// offset + step, …. An odometer over the operand's merged axes (``FusedExternal``), the
    /// last two in registers.
    @inlinable @inline(__always)
    func walkRuns(_ external: FusedExternal, start: Int, n: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let extent = external.extents, step = external.steps
        let rank = extent.count
        var rest = start
        var offset = 0
        var outer = AxisValues(repeating: 0, count: rank)
        for d in stride(from: rank - 1, through: 0, by: -1) {
            outer[d] = rest % extent[d]
            rest /= extent[d]
            offset &+= outer[d] &* step[d]
        }
        let (lastLength, lastStride) = (extent[rank - 1], step[rank - 1])
        let (middleLength, middleStride) = rank > 1 ? (extent[rank - 2], step[rank - 2]) : (1, 0)
        var inRow = outer[rank - 1]
        var row = rank > 1 ? outer[rank - 2] : 0
        var i = 0
        while i < n {
            let run = Swift.min(lastLength &- inRow, n &- i)
            body(i, offset, run, lastStride)
            i &+= run
            inRow &+= run
            offset &+= run &* lastStride
            guard inRow == lastLength else { continue }
            inRow = 0
            offset &+= middleStride &- lastStride &* lastLength
            row &+= 1
            guard row == middleLength else { continue }
            // A carry into the outer axes (once per middleLength · lastLength elements).
            row = 0
            offset &-= middleStride &* middleLength
            var d = rank - 3
            while d >= 0 {
                outer[d] &+= 1
                offset &+= step[d]
                if outer[d] < extent[d] { break }
                offset &-= step[d] &* extent[d]
                outer[d] = 0
                d -= 1
            }
        }
    }

    /// target[i] = the operand's element for region element start + i, i < n.
    @inlinable
    func gather(_ external: FusedExternal, from source: UnsafePointer<Scalar>, start: Int, n: Int, into target: UnsafeMutablePointer<Scalar>) {
        walkRuns(external, start: start, n: n) { i, offset, run, step in
            let (from, to) = (source + offset, target + i)
            switch step {
            // Loops, not memmove: most runs are a few elements (the 3 of a coordinate).
            case 1: for j in 0..<run { to[j] = from[j] }
            case 0: for j in 0..<run { to[j] = from[0] }
            default: for j in 0..<run { to[j] = from[j &* step] }
            }
        }
    }

    /// Adds contribution[i] to the operand's gradient element for region element start + i.
    @inlinable
    func scatterAdd(_ external: FusedExternal, _ contribution: UnsafePointer<Scalar>, start: Int, n: Int,
                    into gradient: UnsafeMutablePointer<Scalar>) {
        walkRuns(external, start: start, n: n) { i, offset, run, step in
            let (from, to) = (contribution + i, gradient + offset)
            switch step {
            case 1: for j in 0..<run { to[j] += from[j] }
            case 0:
                var total: Scalar = 0
                for j in 0..<run { total += from[j] }
                to[0] += total
            default: for j in 0..<run { to[j &* step] += from[j] }
            }
        }
    }

    /// Where the block's values of `operand` are: an op's in `memory`, a dense external's in
    /// place, a broadcast external's gathered into `memory`.
    @inlinable @inline(__always)
    func values(of operand: FusedOperand, _ region: FusedRegion, start: Int, memory: RegionMemory<Scalar>) -> UnsafePointer<Scalar> {
        switch operand {
        case .op(let k): return UnsafePointer(memory.value(k))
        case .external(let e):
            let external = region.externals[e]
            if external.isDense { return UnsafePointer(storage.pointee.values + storage.pointee.entries[external.entry].valueOffset + start) }
            return UnsafePointer(memory.gathered(e))
        }
    }

    /// The values of the region's ops for elements start..<start + n, in `memory`.
    @inlinable
    func runRegionBlock(_ region: FusedRegion, start: Int, n: Int, memory: RegionMemory<Scalar>) {
        let s = storage
        for (e, external) in region.externals.enumerated() where !external.isDense {
            gather(external, from: s.pointee.values + s.pointee.entries[external.entry].valueOffset, start: start, n: n,
                   into: memory.gathered(e))
        }
        for (k, op) in region.ops.enumerated() {
            let x = values(of: op.a, region, start: start, memory: memory)
            let z = op.b.map { values(of: $0, region, start: start, memory: memory) } ?? x
            RuleTable.dispatch(op.rule, to: BlockForward(x: x, z: z, y: memory.value(k), n: n,
                                                         c: s.pointee.entries[op.entry].auxScalar))
        }
    }

    /// Runs region `region` forward: its output entry's value. A region that ends in a sum of
    /// everything also runs its pullback for a unit gradient on the same blocks, into `units`
    /// (``FusedRegion/unitOffsets``): the backward pass then only scales it, and nothing is
    /// computed twice.
    @inlinable
    func runRegionForward(_ region: FusedRegion, memory: RegionMemory<Scalar>, units: UnsafeMutablePointer<Scalar>?) {
        let s = storage
        let outputEntry = s.pointee.entries[region.output]
        let out = s.pointee.values + outputEntry.valueOffset
        let last = region.ops.count - 1
        let preaccumulating = region.preaccumulates && outputEntry.requiresGradient && units != nil
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Scalar>?.self, capacity: region.externals.count) { targets in
            for (e, external) in region.externals.enumerated() {
                targets[e] = nil
                guard preaccumulating, let offset = region.unitOffsets[e] else { continue }
                let unit = units.unsafelyUnwrapped + offset
                unit.update(repeating: 0, count: s.pointee.entries[external.entry].count)
                targets[e] = unit
            }
            var total = CompensatedSum<Scalar>()
            var start = 0
            while start < region.count {
                let n = Swift.min(region.block, region.count - start)
                runRegionBlock(region, start: start, n: n, memory: memory)
                switch region.end {
                case .elementwise: (out + start).update(from: memory.value(last), count: n)
                case .sumAll: total.add(Summation.sum(memory.value(last), count: n))
                case .sumRows(let length):
                    ReductionKernels.sum(memory.value(last), outer: n / Swift.max(length, 1), length: length, inner: 1,
                                         into: out + start / Swift.max(length, 1), scale: outputEntry.auxScalar)
                }
                if preaccumulating {
                    memory.gradient(last).update(repeating: outputEntry.auxScalar, count: n)
                    pullRegionBlock(region, start: start, n: n, memory: memory, targets: UnsafePointer(targets.baseAddress!))
                }
                start &+= n
            }
            if case .sumAll = region.end { out[0] = total.value * outputEntry.auxScalar }
        }
    }

    /// The pullback of one block whose values are in `memory` and whose last op's gradient is
    /// set: adds each external's contributions to `targets[e]` (its gradient, or nil).
    @inlinable
    func pullRegionBlock(_ region: FusedRegion, start: Int, n: Int, memory: RegionMemory<Scalar>,
                         targets: UnsafePointer<UnsafeMutablePointer<Scalar>?>) {
        let s = storage
        let last = region.ops.count - 1
        for k in 0..<last { memory.gradient(k).update(repeating: 0, count: n) }
        for (e, external) in region.externals.enumerated() where !external.isDense && targets[e] != nil {
            memory.contribution(e).update(repeating: 0, count: n)
        }
        func gradient(_ operand: FusedOperand) -> UnsafeMutablePointer<Scalar>? {
            switch operand {
            case .op(let k): return memory.gradient(k)
            case .external(let e):
                guard let target = targets[e] else { return nil }
                return region.externals[e].isDense ? target + start : memory.contribution(e)
            }
        }
        for k in stride(from: last, through: 0, by: -1) {
            let op = region.ops[k]
            let x = values(of: op.a, region, start: start, memory: memory)
            let z = op.b.map { values(of: $0, region, start: start, memory: memory) } ?? x
            RuleTable.dispatch(op.rule, to: BlockPullback(
                g: memory.gradient(k), x: x, z: z, y: memory.value(k), gx: gradient(op.a), gz: op.b.flatMap(gradient),
                n: n, c: s.pointee.entries[op.entry].auxScalar))
        }
        for (e, external) in region.externals.enumerated() where !external.isDense {
            guard let target = targets[e] else { continue }
            scatterAdd(external, memory.contribution(e), start: start, n: n, into: target)
        }
    }

    /// Runs region `region`'s pullback: adds the gradients of its external operands (from the
    /// unit gradients of the forward pass when it preaccumulated them).
    @inlinable
    func runRegionPullback(_ region: FusedRegion, memory: RegionMemory<Scalar>, units: UnsafeMutablePointer<Scalar>?) {
        let s = storage
        guard let g = TapeValue(storage: s, index: region.output).gradient else { return }
        let outputEntry = s.pointee.entries[region.output]
        if region.preaccumulates, let units {
            for (e, external) in region.externals.enumerated() {
                guard let offset = region.unitOffsets[e], let target = TapeValue(storage: s, index: external.entry).gradient else { continue }
                let unit = units + offset
                let scale = g[0]
                for k in 0..<s.pointee.entries[external.entry].count { target[k] += scale * unit[k] }
            }
            return
        }
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Scalar>?.self, capacity: region.externals.count) { targets in
            for (e, external) in region.externals.enumerated() { targets[e] = TapeValue(storage: s, index: external.entry).gradient }
            let last = region.ops.count - 1
            var start = 0
            while start < region.count {
                let n = Swift.min(region.block, region.count - start)
                runRegionBlock(region, start: start, n: n, memory: memory)
                let gLast = memory.gradient(last)
                switch region.end {
                case .elementwise: gLast.update(from: g + start, count: n)
                case .sumAll: gLast.update(repeating: g[0] * outputEntry.auxScalar, count: n)
                case .sumRows(let length):
                    let row0 = start / Swift.max(length, 1)
                    for r in 0..<(n / Swift.max(length, 1)) {
                        (gLast + r &* length).update(repeating: g[row0 &+ r] * outputEntry.auxScalar, count: length)
                    }
                }
                pullRegionBlock(region, start: start, n: n, memory: memory, targets: UnsafePointer(targets.baseAddress!))
                start &+= n
            }
        }
    }
}

extension Tape {
    /// Runs the forwards of entries 0..<end with the plan's regions.
    @inlinable
    func replayForward(_ end: Int, plan: FusionPlan, memory: UnsafeMutablePointer<Scalar>, units: UnsafeMutablePointer<Scalar>?) {
        for index in 0..<end {
            let step = Int(plan.steps[index])
            if step == -1 {
                replayEntry(index)
            } else if step >= 0 {
                let region = plan.regions[step]
                runRegionForward(region, memory: RegionMemory(scalars: memory, block: region.block, ops: region.ops.count), units: units)
            }
        }
    }

    /// ``backward(_:seed:)`` of a program with fused regions from entry `last`: a region's
    /// pullback runs where its output is, the entries inside it are skipped.
    @inlinable
    func backward(_ last: Int, seed: Tensor<Scalar>?, plan: FusionPlan, memory: UnsafeMutablePointer<Scalar>,
                  units: UnsafeMutablePointer<Scalar>?) {
        let s = storage
        prepareGradients(upTo: last)
        let gradients = s.pointee.gradients.unsafelyUnwrapped
        if let seed {
            seed.withUnsafeBufferPointer { p in
                (gradients + s.pointee.entries[last].valueOffset).update(from: p.baseAddress!, count: p.count)
            }
            _ = s.pointee.claimPendingGradient(last)
        } else {
            gradients[s.pointee.entries[last].valueOffset] = 1
        }
        s.pointee.inBackward = true
        var lastWrite = LastGradient<Scalar>()
        var index = last
        while index >= 0 {
            let step = Int(plan.steps[index])
            let entry = s.pointee.entries[index]
            if step >= 0 {
                let region = plan.regions[step]
                if entry.requiresGradient {
                    runRegionPullback(region, memory: RegionMemory(scalars: memory, block: region.block, ops: region.ops.count), units: units)
                }
                lastWrite.forget()
            } else if step == -1 && entry.requiresGradient && entry.rule != .none {
                if entry.isScalarOp {
                    entry.rule.runScalar(entry, entries: s.pointee.entries, values: s.pointee.values, gradients: gradients, last: &lastWrite)
                } else {
                    runTensorPullback(index, entry)
                    lastWrite.forget()
                }
            }
            index &-= 1
        }
        s.pointee.inBackward = false
        if s.pointee.pendingGradients > 0 { zeroPendingGradients(upTo: last) }
        s.pointee.gradientGeneration = s.pointee.generation
        s.pointee.gradientLimit = last
    }
}
