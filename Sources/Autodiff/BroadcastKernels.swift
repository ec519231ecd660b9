/// The output shape of a broadcast of two operands, simplified for looping: axes of length 1
/// dropped, and adjacent axes merged where both operands step through them as one (a row
/// against a matrix becomes two axes, a column of a [64, 64, 3] cube three), so the loops do
/// no per-element index arithmetic.
@usableFromInline
struct BroadcastLayout {
    /// The merged output axes, outermost first; at least one.
    @usableFromInline var shape: AxisValues
    /// Element strides of the first and second operand along each merged axis (0: broadcast).
    @usableFromInline var stridesA: AxisValues
    @usableFromInline var stridesB: AxisValues

    /// The layout of `a` and `b` broadcast to `outShape` (which is their broadcast).
    @inlinable
    init<O: RandomAccessCollection<Int>, A: RandomAccessCollection<Int>, B: RandomAccessCollection<Int>>(
        _ outShape: O, _ aShape: A, _ bShape: B
    ) where O.Index == Int, A.Index == Int, B.Index == Int {
        self.init(shape: outShape, stridesA: Self.broadcastStrides(aShape, to: outShape),
                  stridesB: Self.broadcastStrides(bShape, to: outShape))
    }

    /// Element strides of `shape` read as if broadcast to `target` (0 along broadcast axes).
    @inlinable
    static func broadcastStrides<A: RandomAccessCollection<Int>, O: RandomAccessCollection<Int>>(
        _ shape: A, to target: O
    ) -> AxisValues where A.Index == Int, O.Index == Int {
        var strides = AxisValues(repeating: 0, count: target.count)
        var stride = 1
        var i = shape.count - 1
        var j = target.count - 1
        while i >= 0 {
            let d = shape[shape.startIndex + i]
            strides[j] = d == 1 && target[target.startIndex + j] != 1 ? 0 : stride
            stride &*= d
            i -= 1
            j -= 1
        }
        return strides
    }

    /// A walk over `outShape` (the output, contiguous) reading the operands with the given
    /// element strides (the second defaults to the first): axes of length 1 dropped, adjacent
    /// axes merged where both operands step through them as one.
    @inlinable
    init<O: RandomAccessCollection<Int>>(shape outShape: O, stridesA sa: AxisValues, stridesB sb: AxisValues? = nil)
    where O.Index == Int {
        let sb = sb ?? sa
        var shape = AxisValues()
        var stridesA = AxisValues()
        var stridesB = AxisValues()
        for i in 0..<outShape.count where outShape[outShape.startIndex + i] != 1 {
            let length = outShape[outShape.startIndex + i]
            let last = shape.count - 1
            if last >= 0, stridesA[last] == sa[i] &* length, stridesB[last] == sb[i] &* length {
                shape[last] &*= length
                stridesA[last] = sa[i]
                stridesB[last] = sb[i]
            } else {
                shape.append(length)
                stridesA.append(sa[i])
                stridesB.append(sb[i])
            }
        }
        if shape.count == 0 {
            shape.append(1)
            stridesA.append(0)
            stridesB.append(0)
        }
        (self.shape, self.stridesA, self.stridesB) = (shape, stridesA, stridesB)
        stridesOut = Self.contiguousStrides(shape)
        swapShortInnerAxis()
    }

    /// Output strides along the merged axes (the output is contiguous, but the walk may take
    /// its axes in another order).
    @usableFromInline var stridesOut: AxisValues

    @inlinable
    static func contiguousStrides(_ shape: AxisValues) -> AxisValues {
        var strides = AxisValues(repeating: 1, count: shape.count)
        var i = shape.count - 2
        while i >= 0 { strides[i] = strides[i + 1] &* shape[i + 1]; i -= 1 }
        return strides
    }

    /// Undoes ``swapShortInnerAxis()``: the walk in row-major order.
    @inlinable
    mutating func unswap() {
        let r = shape.count
        guard r >= 2, stridesOut[r - 1] != 1 else { return }
        shape.swapAt(r - 1, r - 2)
        stridesA.swapAt(r - 1, r - 2)
        stridesB.swapAt(r - 1, r - 2)
        stridesOut.swapAt(r - 1, r - 2)
    }

    /// Walks a short innermost axis (the 3 of [64, 64, 3]) outside the next one, so the inner
    /// loops run long, strided, instead of short.
    @inlinable
    mutating func swapShortInnerAxis() {
        let r = shape.count
        guard r >= 2, shape[r - 1] < 8, shape[r - 2] > shape[r - 1] else { return }
        shape.swapAt(r - 1, r - 2)
        stridesA.swapAt(r - 1, r - 2)
        stridesB.swapAt(r - 1, r - 2)
        stridesOut.swapAt(r - 1, r - 2)
    }

    /// Calls `body(out, a, b, length, strideOut, strideA, strideB)` for every run along the
    /// innermost walked axis: the run starts at output element `out` and at elements `a` and `b`
    /// of the operands, which then step by `strideOut`, `strideA` and `strideB`.
    @inlinable @inline(__always)
    func forEachRow(_ body: (_ out: Int, _ a: Int, _ b: Int, _ length: Int, _ strideOut: Int, _ strideA: Int, _ strideB: Int) -> Void) {
        let rank = shape.count
        let length = shape[rank - 1]
        let (so, sa, sb) = (stridesOut[rank - 1], stridesA[rank - 1], stridesB[rank - 1])
        if length == 0 { return }
        switch rank {
        case 1:
            body(0, 0, 0, length, so, sa, sb)
        case 2:
            let (o0, a0, b0) = (stridesOut[0], stridesA[0], stridesB[0])
            for i in 0..<shape[0] { body(i &* o0, i &* a0, i &* b0, length, so, sa, sb) }
        case 3:
            let (o0, a0, b0, o1, a1, b1) = (stridesOut[0], stridesA[0], stridesB[0], stridesOut[1], stridesA[1], stridesB[1])
            let (outer, middle) = (shape[0], shape[1])
            for i in 0..<outer {
                var (oo, oa, ob) = (i &* o0, i &* a0, i &* b0)
                for _ in 0..<middle {
                    body(oo, oa, ob, length, so, sa, sb)
                    oo &+= o1
                    oa &+= a1
                    ob &+= b1
                }
            }
        default:
            // An odometer over the outer axes.
            var index = AxisValues(repeating: 0, count: rank - 1)
            var rows = 1
            for i in 0..<(rank - 1) { rows &*= shape[i] }
            var (oo, oa, ob) = (0, 0, 0)
            for _ in 0..<rows {
                body(oo, oa, ob, length, so, sa, sb)
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] &+= 1
                    oo &+= stridesOut[axis]
                    oa &+= stridesA[axis]
                    ob &+= stridesB[axis]
                    if index[axis] < shape[axis] { break }
                    oo &-= stridesOut[axis] &* shape[axis]
                    oa &-= stridesA[axis] &* shape[axis]
                    ob &-= stridesB[axis] &* shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// Broadcasting kernels on raw buffers: no tape, no shapes beyond what they are given.
@usableFromInline
enum BroadcastKernels {
    /// out = f(a, b) with numpy broadcasting; `out` has `outShape`, already the broadcast.
    @inlinable
    static func binary<S: TensorScalar, F: BinaryFunction, A: RandomAccessCollection<Int>, B: RandomAccessCollection<Int>, O: RandomAccessCollection<Int>>(
        _: F.Type,
        _ a: UnsafePointer<S>, _ aShape: A, _ b: UnsafePointer<S>, _ bShape: B,
        _ out: UnsafeMutablePointer<S>, _ outShape: O
    ) where A.Index == Int, B.Index == Int, O.Index == Int {
        let n = ShapeMath.count(outShape)
        let countA = ShapeMath.count(aShape)
        let countB = ShapeMath.count(bShape)
        if countA == n && countB == n {
            for i in 0..<n { out[i] = F.value(a[i], b[i]) }
        } else if countA == n && countB == 1 {
            let s = b[0]
            for i in 0..<n { out[i] = F.value(a[i], s) }
        } else if countB == n && countA == 1 {
            let s = a[0]
            for i in 0..<n { out[i] = F.value(s, b[i]) }
        } else {
            BroadcastLayout(outShape, aShape, bShape).forEachRow { o, ia, ib, length, so, sa, sb in
                let (pa, pb, po) = (a + ia, b + ib, out + o)
                if so == 1 && sa == 1 && sb == 1 {
                    for j in 0..<length { po[j] = F.value(pa[j], pb[j]) }
                } else if so == 1 && sa == 1 && sb == 0 {
                    let s = pb[0]
                    for j in 0..<length { po[j] = F.value(pa[j], s) }
                } else if so == 1 && sa == 0 && sb == 1 {
                    let s = pa[0]
                    for j in 0..<length { po[j] = F.value(s, pb[j]) }
                } else {
                    for j in 0..<length { po[j &* so] = F.value(pa[j &* sa], pb[j &* sb]) }
                }
            }
        }
    }

    /// out = x broadcast to `outShape`.
    @inlinable
    static func broadcast<S: TensorScalar, X: RandomAccessCollection<Int>, O: RandomAccessCollection<Int>>(
        _ x: UnsafePointer<S>, _ xShape: X, into out: UnsafeMutablePointer<S>, _ outShape: O
    ) where X.Index == Int, O.Index == Int {
        let n = ShapeMath.count(outShape)
        if ShapeMath.count(xShape) == n {
            out.update(from: x, count: n)
            return
        }
        BroadcastLayout(outShape, xShape, xShape).forEachRow { o, ix, _, length, so, sx, _ in
            let (px, po) = (x + ix, out + o)
            if so == 1 && sx == 1 {
                po.update(from: px, count: length)
            } else {
                for j in 0..<length { po[j &* so] = px[j &* sx] }
            }
        }
    }

    /// dst += src summed down to `dstShape` (the reverse of broadcasting `dstShape` to
    /// `srcShape`): the gradient of a broadcast operand.
    @inlinable
    static func accumulateReduced<S: TensorScalar, A: RandomAccessCollection<Int>, B: RandomAccessCollection<Int>>(
        _ src: UnsafePointer<S>, _ srcShape: A,
        into dst: UnsafeMutablePointer<S>, _ dstShape: B
    ) where A.Index == Int, B.Index == Int {
        let n = ShapeMath.count(srcShape)
        let countD = ShapeMath.count(dstShape)
        if countD == n {
            for i in 0..<n { dst[i] += src[i] }
            return
        }
        if countD == 1 {
            dst[0] += Summation.sum(src, count: n)
            return
        }
        BroadcastLayout(srcShape, dstShape, dstShape).forEachRow { o, id, _, length, ss, sd, _ in
            let (ps, pd) = (src + o, dst + id)
            if sd == 0 {
                pd[0] += Summation.sum(ps, count: length, stride: ss)
            } else if sd == 1 && ss == 1 {
                for j in 0..<length { pd[j] += ps[j] }
            } else {
                for j in 0..<length { pd[j &* sd] += ps[j &* ss] }
            }
        }
    }
}

/// Broadcasting for ops of your own (see ``Tape/record(_:shape:_:_:_:auxScalar:auxInt:savedScalars:savedInts:forward:pullback:)``):
/// the numpy rules, the element pairing, and the sum back to an operand's shape that its
/// gradient needs (``OpContext/accumulateBroadcast(_:into:)``).
public enum Broadcasting {
    /// The numpy broadcast of two shapes; stops with a message naming `op` and both shapes when
    /// they are incompatible.
    public static func shape(_ a: [Int], _ b: [Int], op: StaticString = "broadcast") -> [Int] {
        ShapeMath.broadcast(a, b, op: op)
    }

    /// Calls `body(out, a, b)` for every element of `outShape` (the broadcast of `aShape` and
    /// `bShape`), in row-major order: the flat index of the output element and of the operand
    /// elements it pairs.
    @inlinable
    public static func forEachElement(
        _ outShape: [Int], _ aShape: [Int], _ bShape: [Int], _ body: (_ out: Int, _ a: Int, _ b: Int) -> Void
    ) {
        // In row-major order, so no short-axis swap here.
        var layout = BroadcastLayout(outShape, aShape, bShape)
        layout.unswap()
        layout.forEachRow { o, ia, ib, length, so, sa, sb in
            for j in 0..<length { body(o &+ j &* so, ia &+ j &* sa, ib &+ j &* sb) }
        }
    }
}

/// Up to eight axis lengths or strides stored inline (no heap allocation, which per op cost
/// more than the loops of small tensors); more spill into an array.
@usableFromInline
struct AxisValues {
    @usableFromInline var inline = SIMD8<Int>()
    @usableFromInline var spilled: [Int]?
    @usableFromInline var count = 0

    @inlinable init() {}

    @inlinable
    init(repeating value: Int, count: Int) {
        self.count = count
        if count <= 8 {
            inline = SIMD8(repeating: value)
        } else {
            spilled = [Int](repeating: value, count: count)
        }
    }

    @inlinable
    subscript(i: Int) -> Int {
        get { spilled?[i] ?? inline[i] }
        set {
            if spilled != nil { spilled![i] = newValue } else { inline[i] = newValue }
        }
    }

    @inlinable
    mutating func append(_ value: Int) {
        if spilled == nil && count < 8 {
            inline[count] = value
        } else {
            if spilled == nil { spilled = (0..<count).map { inline[$0] } }
            spilled!.append(value)
        }
        count &+= 1
    }

    @inlinable
    mutating func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
