// The forwards of the built-in ops that are not rules, each declared once: recording runs it,
// and a compiled program runs it again on new inputs. Each reads its sizes from the shapes in
// its context and its constants from auxScalar and auxInt.

/// A unary rule of the user's (``Variable/applying(_:constant:file:line:)``).
@usableFromInline enum UnaryRuleForward<Rule: UnaryRule>: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) { ctx.evaluateUnary(Rule.self) }
}

/// A binary rule of the user's, broadcasting (``Variable/applying(_:_:_:)``).
@usableFromInline enum BinaryRuleForward<Rule: BinaryRule>: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) { ctx.evaluateBinary(Rule.self) }
}

/// 1 where `F` holds between the broadcast operands, else 0 (the comparison masks).
@usableFromInline enum MaskForward<F: BinaryFunction>: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        BroadcastKernels.binary(F.self, ctx.a.value, ctx.a.shapeBuffer, ctx.b.value, ctx.b.shapeBuffer,
                                ctx.output.value, ctx.output.shapeBuffer)
    }
}

/// The input's elements unchanged (reshape).
@usableFromInline enum CopyForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        ctx.output.value.update(from: ctx.a.value, count: ctx.output.count)
    }
}

/// The input repeated along broadcast axes to the output's shape.
@usableFromInline enum BroadcastForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        BroadcastKernels.broadcast(ctx.a.value, ctx.a.shapeBuffer, into: ctx.output.value, ctx.output.shapeBuffer)
    }
}

/// Σ of all elements (pairwise) times auxScalar (1 for a sum, 1/n for a mean).
@usableFromInline enum SumAllForward: ForwardKernel {
    @inlinable static var fusionRole: FusionRole { .sumAll }
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        ctx.output.value[0] = Summation.sum(ctx.a.value, count: ctx.a.count) * ctx.auxScalar
    }
}

/// Σ along axis auxInt (pairwise) times auxScalar.
@usableFromInline enum SumAlongAxisForward: ForwardKernel {
    @inlinable static var fusionRole: FusionRole { .sumAlongAxis }
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (outer, length, inner) = ShapeMath.split(ctx.a.shapeBuffer, axis: ctx.auxInt)
        ReductionKernels.sum(ctx.a.value, outer: outer, length: length, inner: inner, into: ctx.output.value,
                             scale: ctx.auxScalar)
    }
}

/// The maximum (auxScalar 1) or minimum (0) along axis auxInt; the positions go to the saved ints.
@usableFromInline enum ExtremumForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (outer, length, inner) = ShapeMath.split(ctx.a.shapeBuffer, axis: ctx.auxInt)
        ReductionKernels.extremum(ctx.a.value, outer: outer, length: length, inner: inner, largest: ctx.auxScalar == 1,
                                  into: ctx.output.value, position: ctx.savedInts)
    }
}

/// log Σ e^x along axis auxInt.
@usableFromInline enum LogSumExpForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (outer, length, inner) = ShapeMath.split(ctx.a.shapeBuffer, axis: ctx.auxInt)
        ReductionKernels.logSumExp(ctx.a.value, outer: outer, length: length, inner: inner, into: ctx.output.value,
                                   scratch: ctx.scratch(length))
    }
}

/// `[m, k] × [k, n] → [m, n]`.
@usableFromInline enum MatrixProductForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let shape = ctx.output.shapeBuffer
        let (m, n) = (shape[0], shape[1])
        let k = ctx.a.count / Swift.max(m, 1)
        MatrixKernels.gemm(m: m, n: n, k: k, a: ctx.a.value, rsa: k, csa: 1, b: ctx.b.value, rsb: n, csb: 1,
                           c: ctx.output.value, ldc: n, beta: 0, threads: ctx.matrixThreads)
    }
}

/// The transpose of a matrix `[m, n] → [n, m]`.
@usableFromInline enum TransposeForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let shape = ctx.a.shapeBuffer
        let (m, n) = (shape[0], shape[1])
        let (x, y) = (ctx.a.value, ctx.output.value)
        for i in 0..<m { for j in 0..<n { y[j * m + i] = x[i * n + j] } }
    }
}

/// `input(1)` where `input(0)` is nonzero, else `input(2)`, the three broadcast to the output.
@usableFromInline enum SelectForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (m, x, z) = (ctx.input(0), ctx.input(1), ctx.input(2))
        BroadcastKernels.select(m.value, m.shapeBuffer, x.value, x.shapeBuffer, z.value, z.shapeBuffer,
                                into: ctx.output.value, ctx.output.shapeBuffer, scratch: ctx.scratch(3 * ctx.output.count))
    }
}

/// The input's values with every tangent dropped (``stopGradient(_:)``).
@usableFromInline enum ConstantPartForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (a, out) = (ctx.a.value, ctx.output.value)
        for i in 0..<ctx.output.count { out[i] = a[i].constantPart }
    }
}

/// mean((p - t)²).
@usableFromInline enum MeanSquaredErrorForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (p, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        var total = CompensatedSum<S>()
        for i in 0..<n { total.add((p[i] - t[i]) * (p[i] - t[i])) }
        ctx.output.value[0] = total.value / S(n)
    }
}

/// -mean(t·log p + (1-t)·log(1-p)), p clamped.
@usableFromInline enum BinaryCrossEntropyForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (p, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        let eps = probabilityEpsilon(S.self)
        var total = CompensatedSum<S>()
        for i in 0..<n {
            let q = clampedProbability(p[i], eps)
            total.add(-(t[i] * S.log(q) + (1 - t[i]) * S.log(1 - q)))
        }
        ctx.output.value[0] = total.value / S(n)
    }
}

/// mean(softplus(z) - z·t).
@usableFromInline enum BinaryCrossEntropyOfLogitsForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (z, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        var total = CompensatedSum<S>()
        // softplus as its rule, so that dual numbers take σ(z) as the derivative at z = 0 too.
        for i in 0..<n { total.add(S.evaluate(SoftplusRule.self, z[i], 0) - z[i] * t[i]) }
        ctx.output.value[0] = total.value / S(n)
    }
}

/// -Σ t·log p / batch (batch in auxInt).
@usableFromInline enum CrossEntropyForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (p, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        let eps = probabilityEpsilon(S.self)
        var total = CompensatedSum<S>()
        for i in 0..<n where t[i] != 0 { total.add(-t[i] * S.log(p[i] < eps ? eps : p[i])) }
        ctx.output.value[0] = total.value / S(ctx.auxInt)
    }
}

/// -Σ log p[i, label_i] / batch, the labels in the saved ints, classes in auxInt.
@usableFromInline enum CrossEntropyOfLabelsForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (p, labels, classes) = (ctx.a.value, ctx.savedInts, ctx.auxInt)
        let batch = ctx.a.count / Swift.max(classes, 1)
        let eps = probabilityEpsilon(S.self)
        var total = CompensatedSum<S>()
        for i in 0..<batch {
            let q = p[i * classes + labels[i]]
            total.add(-S.log(q < eps ? eps : q))
        }
        ctx.output.value[0] = total.value / S(batch)
    }
}

/// mean over rows of (log Σ e^z - z[label]), the labels in the saved ints, classes in auxInt;
/// the probabilities go to the saved scalars for the pullback.
@usableFromInline enum SoftmaxCrossEntropyOfLabelsForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (z, labels, classes) = (ctx.a.value, ctx.savedInts, ctx.auxInt)
        let batch = ctx.a.count / Swift.max(classes, 1)
        var total = CompensatedSum<S>()
        SoftmaxKernels.rowSoftmax(z, ctx.savedScalars, rows: batch, classes: classes) { i, maximum, logTotal in
            total.add((maximum - z[i * classes + labels[i]]) + logTotal)
        }
        ctx.output.value[0] = total.value / S(batch)
    }
}

/// Σ_rows (Σt·log Σ e^z - Σ t·z) / batch, classes in auxInt; the probabilities, each row's
/// maximum and log Σ go to the saved scalars.
@usableFromInline enum SoftmaxCrossEntropyForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (z, t, classes) = (ctx.a.value, ctx.b.value, ctx.auxInt)
        let batch = ctx.a.count / Swift.max(classes, 1)
        let lseSaved = ctx.savedScalars + batch * classes
        var total = CompensatedSum<S>()
        SoftmaxKernels.rowSoftmax(z, ctx.savedScalars, rows: batch, classes: classes) { i, maximum, logTotal in
            lseSaved[2 * i] = maximum
            lseSaved[2 * i + 1] = logTotal
            for j in 0..<classes { total.add(t[i * classes + j] * ((maximum - z[i * classes + j]) + logTotal)) }
        }
        ctx.output.value[0] = total.value / S(batch)
    }
}

/// softmax (auxScalar 0) or log-softmax (1) along axis auxInt.
@usableFromInline enum SoftmaxForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (outer, length, inner) = ShapeMath.split(ctx.a.shapeBuffer, axis: ctx.auxInt)
        SoftmaxKernels.softmax(ctx.a.value, ctx.output.value, outer: outer, length: length, inner: inner,
                               logarithm: ctx.auxScalar == 1)
    }
}

/// Entries savedInts[0] ..< savedInts[0] + width of axis auxInt, the width from the output.
@usableFromInline enum SliceForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (outer, length, inner) = ShapeMath.split(ctx.a.shapeBuffer, axis: ctx.auxInt)
        let start = ctx.savedInts[0]
        let width = ctx.output.count / Swift.max(outer * inner, 1)
        let (x, y) = (ctx.a.value, ctx.output.value)
        for o in 0..<outer {
            (y + o * width * inner).update(from: x + (o * length + start) * inner, count: width * inner)
        }
    }
}

/// The axes of the input reordered by the permutation in the saved ints.
@usableFromInline enum PermuteForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let shape = ctx.a.shapeBuffer
        let rank = shape.count
        var strides = AxisValues(repeating: 1, count: rank)
        if rank >= 2 { for i in stride(from: rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] } }
        var permuted = AxisValues()
        for i in 0..<rank { permuted.append(strides[ctx.savedInts[i]]) }
        let layout = BroadcastLayout(shape: ctx.output.shapeBuffer, stridesA: permuted)
        let (x, y) = (ctx.a.value, ctx.output.value)
        layout.forEachRow { o, ix, _, length, so, sx, _ in
            for j in 0..<length { y[o + j * so] = x[ix + j * sx] }
        }
    }
}

/// The inputs joined along axis auxInt.
@usableFromInline enum ConcatenateForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (outer, total, inner) = ShapeMath.split(ctx.output.shapeBuffer, axis: ctx.auxInt)
        let y = ctx.output.value
        var start = 0
        for i in 0..<ctx.inputCount {
            let input = ctx.input(i)
            let length = input.shapeBuffer[ctx.auxInt]
            for o in 0..<outer {
                (y + (o * total + start) * inner).update(from: input.value + o * length * inner, count: length * inner)
            }
            start += length
        }
    }
}

/// Batches of products `[B, m, k] × [B, k, n] → [B, m, n]`, a batch of 1 or a matrix shared.
@usableFromInline enum BatchedProductForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let (sa, sb, so) = (ctx.a.shapeBuffer, ctx.b.shapeBuffer, ctx.output.shapeBuffer)
        let (batch, m, n) = (so[0], so[1], so[2])
        let k = sa[sa.count - 1]
        let (ba, bb) = (sa.count == 3 ? sa[0] : 1, sb.count == 3 ? sb[0] : 1)
        for i in 0..<batch {
            MatrixKernels.gemm(m: m, n: n, k: k, a: ctx.a.value + (ba == 1 ? 0 : i) * m * k, rsa: k, csa: 1,
                               b: ctx.b.value + (bb == 1 ? 0 : i) * k * n, rsb: n, csb: 1,
                               c: ctx.output.value + i * m * n, ldc: n, beta: 0, threads: ctx.matrixThreads)
        }
    }
}

/// `x·W + b` with the activation coded in auxInt (0 none, 1 ReLU, 2 sigmoid, 3 tanh).
@usableFromInline enum FusedLinearForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let shape = ctx.output.shapeBuffer
        let (m, n) = (shape[0], shape[1])
        let k = ctx.a.count / Swift.max(m, 1)
        let y = ctx.output.value
        let b = ctx.c.value
        guard ctx.auxInt != 0 else {
            for i in 0..<m { (y + i * n).update(from: b, count: n) }
            MatrixKernels.gemm(m: m, n: n, k: k, a: ctx.a.value, rsa: k, csa: 1, b: ctx.b.value, rsb: n, csb: 1,
                               c: y, ldc: n, beta: 1, threads: ctx.matrixThreads)
            return
        }
        // The product goes to scratch memory and the bias and the activation are applied on the
        // way to the output: a loop reading and writing the same memory through two pointers
        // fails the vectoriser's overlap check and runs as branchy scalar code (12% of an MLP
        // step for ReLU).
        let z = ctx.scratch(m * n)
        MatrixKernels.gemm(m: m, n: n, k: k, a: ctx.a.value, rsa: k, csa: 1, b: ctx.b.value, rsb: n, csb: 1,
                           c: z, ldc: n, beta: 0, threads: ctx.matrixThreads)
        if ctx.auxInt == 1 {
            for i in 0..<m {
                let (row, out) = (z + i * n, y + i * n)
                for j in 0..<n { out[j] = S.evaluate(ReluRule.self, row[j] + b[j], 0) }
            }
            return
        }
        for i in 0..<m {
            let row = z + i * n
            for j in 0..<n { row[j] += b[j] }
        }
        if ctx.auxInt == 2 {
            S.evaluate(SigmoidRule.self, z, into: y, count: m * n, 0)
        } else {
            S.evaluate(TanhRule.self, z, into: y, count: m * n, 0)
        }
    }
}

/// The rows at the indices in the saved ints, each of auxInt elements.
@usableFromInline enum GatherRowsForward: ForwardKernel {
    @inlinable static func forward<S: TensorScalar>(_ ctx: OpContext<S>) {
        let rowLength = ctx.auxInt
        let rows = rowLength == 0 ? 0 : ctx.output.count / rowLength
        for position in 0..<rows {
            (ctx.output.value + position * rowLength).update(from: ctx.a.value + ctx.savedInts[position] * rowLength, count: rowLength)
        }
    }
}
