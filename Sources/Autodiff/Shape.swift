/// Shape arithmetic shared by tensors and tape ops. Shapes are `[Int]`, row-major; rank 0 is a
/// scalar.
@usableFromInline
enum ShapeMath {
    /// The number of elements of a shape (1 for rank 0).
    @inlinable
    static func count<C: Collection<Int>>(_ shape: C) -> Int {
        var n = 1
        for d in shape { n &*= d }
        return n
    }

    /// The number of elements of a shape from outside (a constructor's argument, a file):
    /// stops, naming `op` and the shape, on a negative axis or a count beyond `Int.max`, where
    /// wrapping arithmetic would give a small count and then memory errors.
    @inlinable
    static func checkedCount(_ shape: [Int], op: StaticString) -> Int {
        var n = 1
        var overflow = false
        for d in shape {
            if d < 0 { negativeAxis(shape, op: op) }
            let (product, o) = n.multipliedReportingOverflow(by: d)
            n = product
            overflow = overflow || o
        }
        if overflow && n != 0 || overflow && !shape.contains(0) { tooLarge(shape, op: op) }
        return overflow ? 0 : n
    }

    @usableFromInline @inline(never)
    static func negativeAxis(_ shape: [Int], op: StaticString) -> Never {
        Failure.stop("\(op): shape \(describe(shape)) has a negative axis")
    }

    @usableFromInline @inline(never)
    static func tooLarge(_ shape: [Int], op: StaticString) -> Never {
        Failure.stop("\(op): shape \(describe(shape)) has more elements than Int.max")
    }

    /// `[128, 784]`, the form every error message uses.
    @usableFromInline
    static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// The numpy broadcast of two shapes; stops with a message naming `op` and both shapes when
    /// they are incompatible.
    @inlinable
    static func broadcast(_ a: [Int], _ b: [Int], op: StaticString) -> [Int] {
        if a == b { return a }
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                incompatible(a, b, op: op)
            }
        }
        return out
    }

    @usableFromInline
    static func incompatible(_ a: [Int], _ b: [Int], op: StaticString) -> Never {
        Failure.stop("\(op): \(describe(a)) and \(describe(b)): shapes cannot be broadcast together")
    }

    /// Whether `shape` can be broadcast to `target` (numpy rules, one direction).
    @inlinable
    static func canBroadcast(_ shape: [Int], to target: [Int]) -> Bool {
        if shape.count > target.count { return false }
        let offset = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 && shape[i] != target[i + offset] {
            return false
        }
        return true
    }

    /// Resolves an axis that may be negative (numpy style) or stops with a message.
    @inlinable
    static func axis(_ axis: Int, rank: Int, op: StaticString) -> Int {
        let a = axis < 0 ? axis + rank : axis
        Failure.check(a >= 0 && a < rank, "\(op): axis \(axis) is out of range for rank \(rank)")
        return a
    }

    /// Splits a shape around `axis` into (elements before, length of axis, elements after).
    @inlinable
    static func split<C: RandomAccessCollection<Int>>(_ shape: C, axis: Int) -> (outer: Int, length: Int, inner: Int)
    where C.Index == Int {
        var outer = 1
        var inner = 1
        for i in 0..<axis { outer *= shape[i] }
        for i in (axis + 1)..<shape.count { inner *= shape[i] }
        return (outer, shape[axis], inner)
    }
}
