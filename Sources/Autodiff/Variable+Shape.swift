extension Variable {
    /// The same elements with a new shape (one axis may be -1). ∂/∂x = G reshaped back.
    @inlinable
    public func reshaped(to newShape: [Int]) -> Variable {
        let count = tape.storage.pointee.entries[Int(index)].count
        let resolved = ShapeMath.resolveReshape(newShape, count: count, from: shape)
        return tape.record("reshape", shape: resolved, self, kernel: CopyForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            for i in 0..<ctx.output.count { gx[i] += g[i] }
        })
    }

    /// The value repeated along broadcast axes to `newShape` (numpy rules). ∂/∂x = G summed
    /// over the broadcast axes.
    @inlinable
    public func broadcast(to newShape: [Int]) -> Variable {
        let s = shape
        Failure.check(ShapeMath.canBroadcast(s, to: newShape),
                     "broadcast: \(ShapeMath.describe(s)) cannot be broadcast to \(ShapeMath.describe(newShape))")
        return tape.record("broadcast", shape: newShape, self, kernel: BroadcastForward.self, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            BroadcastKernels.accumulateReduced(ctx.output.gradient.unsafelyUnwrapped, ctx.output.shape,
                                                 into: gx, ctx.a.shape)
        })
    }

    /// The rows (entries of the first axis) at `indices`, in that order, repeats allowed:
    /// `x[indices]`. ∂/∂x scatters G's rows back, adding where an index repeats.
    @inlinable
    public func gatherRows(_ indices: [Int]) -> Variable {
        let s = shape
        Failure.check(!s.isEmpty, "gatherRows: cannot index rows of a scalar")
        for (position, i) in indices.enumerated() where i < 0 || i >= s[0] {
            Failure.stop("gatherRows: index \(i) at position \(position) is out of range for \(s[0]) rows of \(ShapeMath.describe(s))")
        }
        var outShape = s
        outShape[0] = indices.count
        let rowLength = s.dropFirst().reduce(1, *)
        return tape.record("gatherRows", shape: outShape, self, auxInt: rowLength, savedInts: indices.count,
                           kernel: GatherRowsForward.self, saving: { ctx in
            for (position, i) in indices.enumerated() { ctx.savedInts[position] = i }
        }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let g = ctx.output.gradient.unsafelyUnwrapped
            let rowLength = ctx.auxInt
            let rows = rowLength == 0 ? 0 : ctx.output.count / rowLength
            for position in 0..<rows {
                let target = gx + ctx.savedInts[position] * rowLength
                let source = g + position * rowLength
                for j in 0..<rowLength { target[j] += source[j] }
            }
        })
    }
}
