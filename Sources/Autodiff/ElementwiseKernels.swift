/// A binary elementwise operation, applied per element by the broadcasting kernels. Conforming
/// types are caseless enums, so each kernel is specialised with the operation inlined.
public protocol ElementwiseBinaryOperation {
    /// The operation on one pair of elements.
    static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S
}

/// `a + b`.
public enum AddOperation: ElementwiseBinaryOperation {
    @inlinable public static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a + b }
}
/// `a - b`.
public enum SubtractOperation: ElementwiseBinaryOperation {
    @inlinable public static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a - b }
}
/// `a * b`.
public enum MultiplyOperation: ElementwiseBinaryOperation {
    @inlinable public static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b }
}
/// `a / b`.
public enum DivideOperation: ElementwiseBinaryOperation {
    @inlinable public static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a / b }
}

/// Kernels on raw buffers: no tape, no shapes beyond what they are given.
@usableFromInline
enum ElementwiseKernels {
    /// Calls `body(outOffset, aOffset, bOffset)` for every row of the last axis of `shape`,
    /// where a and b are read with `stridesA`/`stridesB` (0 along broadcast axes).
    @inlinable
    static func forEachRow(
        _ shape: [Int], _ stridesA: [Int], _ stridesB: [Int],
        _ body: (_ out: Int, _ a: Int, _ b: Int) -> Void
    ) {
        let rank = shape.count
        if rank <= 1 {
            body(0, 0, 0)
            return
        }
        let rowLength = shape[rank - 1]
        var rows = 1
        for i in 0..<(rank - 1) { rows *= shape[i] }
        if rows == 0 || rowLength == 0 { return }
        var index = [Int](repeating: 0, count: rank - 1)
        var offA = 0
        var offB = 0
        for row in 0..<rows {
            body(row * rowLength, offA, offB)
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                offA += stridesA[axis]
                offB += stridesB[axis]
                if index[axis] < shape[axis] { break }
                offA -= stridesA[axis] * shape[axis]
                offB -= stridesB[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// out = op(a, b) with numpy broadcasting; `out` has `outShape`, already the broadcast.
    @inlinable
    static func binary<S: TensorScalar, Op: ElementwiseBinaryOperation>(
        _: Op.Type,
        _ a: UnsafePointer<S>, _ aShape: [Int], _ b: UnsafePointer<S>, _ bShape: [Int],
        _ out: UnsafeMutablePointer<S>, _ outShape: [Int]
    ) {
        let n = ShapeMath.count(outShape)
        if aShape == bShape {
            for i in 0..<n { out[i] = Op.apply(a[i], b[i]) }
            return
        }
        let countA = ShapeMath.count(aShape)
        let countB = ShapeMath.count(bShape)
        if countB == 1 {
            let s = b[0]
            for i in 0..<n { out[i] = Op.apply(a[i], s) }
            return
        }
        if countA == 1 {
            let s = a[0]
            for i in 0..<n { out[i] = Op.apply(s, b[i]) }
            return
        }
        let stridesA = ShapeMath.broadcastStrides(aShape, to: outShape)
        let stridesB = ShapeMath.broadcastStrides(bShape, to: outShape)
        let length = outShape.last ?? 1
        let sa = stridesA.last ?? 0
        let sb = stridesB.last ?? 0
        forEachRow(outShape, stridesA, stridesB) { o, oa, ob in
            let pa = a + oa
            let pb = b + ob
            let po = out + o
            if sa == 1 && sb == 1 {
                for j in 0..<length { po[j] = Op.apply(pa[j], pb[j]) }
            } else if sa == 1 {
                let s = pb[0]
                for j in 0..<length { po[j] = Op.apply(pa[j], s) }
            } else if sb == 1 {
                let s = pa[0]
                for j in 0..<length { po[j] = Op.apply(s, pb[j]) }
            } else {
                let v = Op.apply(pa[0], pb[0])
                for j in 0..<length { po[j] = v }
            }
        }
    }

    /// dst += src summed down to `dstShape` (the reverse of broadcasting `dstShape` to
    /// `srcShape`): the gradient of a broadcast operand.
    @inlinable
    static func accumulateReduced<S: TensorScalar>(
        _ src: UnsafePointer<S>, _ srcShape: [Int],
        into dst: UnsafeMutablePointer<S>, _ dstShape: [Int]
    ) {
        let n = ShapeMath.count(srcShape)
        if srcShape == dstShape {
            for i in 0..<n { dst[i] += src[i] }
            return
        }
        if ShapeMath.count(dstShape) == 1 {
            var total: S = 0
            for i in 0..<n { total += src[i] }
            dst[0] += total
            return
        }
        let stridesD = ShapeMath.broadcastStrides(dstShape, to: srcShape)
        let length = srcShape.last ?? 1
        let sd = stridesD.last ?? 0
        forEachRow(srcShape, stridesD, stridesD) { o, od, _ in
            let ps = src + o
            let pd = dst + od
            if sd == 1 {
                for j in 0..<length { pd[j] += ps[j] }
            } else {
                var total: S = 0
                for j in 0..<length { total += ps[j] }
                pd[0] += total
            }
        }
    }
}
