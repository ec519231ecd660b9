extension Variable {
    /// Entry `i` of the first axis, which is dropped (`x[i]` of a matrix is its row i; of a
    /// vector, a scalar); a negative i counts from the end. ∂/∂x = G placed at entry i, 0 elsewhere.
    @inlinable
    public subscript(_ i: Int) -> Variable {
        let s = shape
        Failure.check(!s.isEmpty, "subscript: cannot index a scalar")
        let index = i < 0 ? i + s[0] : i
        Failure.check(index >= 0 && index < s[0], "subscript: index \(i) is out of range for the first axis of \(ShapeMath.describe(s))")
        return sliced("subscript", axis: 0, index..<(index + 1), dropAxis: true)
    }

    /// The entries `range` of the first axis (`x[1..<3]`, `x[2...]`, `x[..<4]`).
    /// ∂/∂x = G placed at those entries, 0 elsewhere.
    @inlinable
    public subscript<R: RangeExpression<Int>>(_ range: R) -> Variable {
        slice(alongAxis: 0, range)
    }

    /// The entries `range` along `axis` (negative counts from the end), the other axes whole.
    /// ∂/∂x = G placed at those entries, 0 elsewhere.
    @inlinable
    public func slice<R: RangeExpression<Int>>(alongAxis axis: Int, _ range: R) -> Variable {
        let s = shape
        let axis = ShapeMath.axis(axis, rank: s.count, op: "slice")
        let bounds = 0..<s[axis]
        let r = range.relative(to: bounds)
        Failure.check(r.lowerBound >= 0 && r.upperBound <= s[axis],
                      "slice: range \(r) is out of bounds for axis \(axis) of \(ShapeMath.describe(s))")
        return sliced("slice", axis: axis, r, dropAxis: false)
    }

    @inlinable
    func sliced(_ op: StaticString, axis: Int, _ r: Range<Int>, dropAxis: Bool) -> Variable {
        let s = shape
        let (outer, length, inner) = ShapeMath.split(s, axis: axis)
        var outShape = s
        if dropAxis { outShape.remove(at: axis) } else { outShape[axis] = r.count }
        let (start, width) = (r.lowerBound, r.count)
        return tape.record(op, shape: outShape, self, auxInt: axis, savedInts: 1, kernel: SliceForward.self,
                           saving: { $0.savedInts[0] = start }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            for o in 0..<outer {
                let (source, target) = (g + o * width * inner, gx + (o * length + start) * inner)
                for j in 0..<(width * inner) { target[j] += source[j] }
            }
        })
    }

    /// The pieces of `axis` with the given lengths, in order (they must add up to the axis).
    /// Each piece's gradient lands in its part of x.
    @inlinable
    public func split(alongAxis axis: Int, sizes: [Int]) -> [Variable] {
        let s = shape
        let axis = ShapeMath.axis(axis, rank: s.count, op: "split")
        Failure.check(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == s[axis],
                      "split: sizes \(sizes) do not add up to axis \(axis) of \(ShapeMath.describe(s))")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return sliced("split", axis: axis, start..<(start + size), dropAxis: false)
        }
    }

    /// `axis` cut into `count` pieces of equal length. - Precondition: count divides the axis.
    @inlinable
    public func split(alongAxis axis: Int, count: Int) -> [Variable] {
        let s = shape
        let a = ShapeMath.axis(axis, rank: s.count, op: "split")
        Failure.check(count > 0 && s[a] % count == 0, "split: \(count) equal pieces do not divide axis \(a) of \(ShapeMath.describe(s))")
        return split(alongAxis: a, sizes: [Int](repeating: s[a] / count, count: count))
    }

    /// The axes reordered: axis i of the result is axis `permutation[i]` of x (numpy's
    /// `transpose(axes)`). ∂/∂x = G with the inverse permutation.
    @inlinable
    public func transposed(_ permutation: [Int]) -> Variable {
        let s = shape
        Failure.check(permutation.count == s.count && Set(permutation) == Set(0..<s.count),
                      "transposed: \(permutation) is not a permutation of the \(s.count) axes of \(ShapeMath.describe(s))")
        var strides = [Int](repeating: 1, count: s.count)
        for i in stride(from: s.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * s[i + 1] }
        let outShape = permutation.map { s[$0] }
        var permuted = AxisValues()
        for axis in permutation { permuted.append(strides[axis]) }
        let layout = BroadcastLayout(shape: outShape, stridesA: permuted)
        return tape.record("transposed", shape: outShape, self, savedInts: s.count, kernel: PermuteForward.self,
                           saving: { ctx in for (i, axis) in permutation.enumerated() { ctx.savedInts[i] = axis } },
                           pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            layout.forEachRow { o, ix, _, length, so, sx, _ in
                for j in 0..<length { gx[ix + j * sx] += g[o + j * so] }
            }
        })
    }
}

/// The parts joined along `axis` (negative counts from the end); all parts have the same rank
/// and the same lengths on the other axes. ∂/∂part = its slice of G.
@inlinable
public func concatenate<S>(_ parts: [Variable<S>], alongAxis axis: Int = 0) -> Variable<S> {
    Failure.check(!parts.isEmpty, "concatenate: no parts")
    let shapes = parts.map(\.shape)
    let first = shapes[0]
    let axis = ShapeMath.axis(axis, rank: first.count, op: "concatenate")
    for (i, s) in shapes.enumerated() {
        var a = s, b = first
        if s.count == first.count { a[axis] = 0; b[axis] = 0 }
        Failure.check(a == b, "concatenate: part \(i) of shape \(ShapeMath.describe(s)) does not match part 0 of shape \(ShapeMath.describe(first)) off axis \(axis)")
    }
    let lengths = shapes.map { $0[axis] }
    let total = lengths.reduce(0, +)
    var outShape = first
    outShape[axis] = total
    let (outer, _, inner) = ShapeMath.split(first, axis: axis)
    return parts[0].tape.record("concatenate", shape: outShape, inputs: parts, auxInt: axis, kernel: ConcatenateForward.self,
                                pullback: { ctx in
        let g = ctx.output.gradient.unsafelyUnwrapped
        var start = 0
        for (i, length) in lengths.enumerated() {
            defer { start += length }
            guard let gx = ctx.input(i).gradient else { continue }
            for o in 0..<outer {
                let (source, target) = (g + (o * total + start) * inner, gx + o * length * inner)
                for j in 0..<(length * inner) { target[j] += source[j] }
            }
        }
    })
}

/// The parts, all of one shape, stacked along a new axis at `axis` (0 ... rank).
/// ∂/∂part = its slice of G.
@inlinable
public func stack<S>(_ parts: [Variable<S>], alongAxis axis: Int = 0) -> Variable<S> {
    Failure.check(!parts.isEmpty, "stack: no parts")
    let s = parts[0].shape
    let a = axis < 0 ? axis + s.count + 1 : axis
    Failure.check(a >= 0 && a <= s.count, "stack: axis \(axis) is out of range for parts of rank \(s.count)")
    var expanded = s
    expanded.insert(1, at: a)
    for (i, part) in parts.enumerated() {
        Failure.check(part.shape == s, "stack: part \(i) of shape \(ShapeMath.describe(part.shape)) differs from part 0 of shape \(ShapeMath.describe(s))")
    }
    return concatenate(parts.map { $0.reshaped(to: expanded) }, alongAxis: a)
}
