/// The clamp applied to probabilities before taking logarithms, so that 0 and 1 give finite
/// losses: 1e-12 in Double, the spacing of Float near 1 (~1.2e-7) in Float.
@inlinable
func probabilityEpsilon<S: TensorScalar>(_: S.Type) -> S { Swift.max(S(1e-12), S.ulpOfOne) }

/// p clamped to [ε, 1 - ε] with the ends inside, as the pullbacks count them (so a dual at
/// p = ε keeps its tangent, as its gradient does).
@inlinable @inline(__always)
func clampedProbability<S: TensorScalar>(_ p: S, _ eps: S) -> S { p < eps ? eps : (p > 1 - eps ? 1 - eps : p) }

@inlinable
func checkSameShape<S>(_ a: Variable<S>, _ b: Variable<S>, op: StaticString) {
    let (sa, sb) = (a.shape, b.shape)
    Failure.check(sa == sb, "\(op): \(ShapeMath.describe(sa)) and \(ShapeMath.describe(sb)): shapes differ")
}

/// mean((p - t)²) over all elements, a scalar; NaN for empty tensors, as `mean()`.
/// ∂/∂p = 2(p - t)/n, ∂/∂t = -2(p - t)/n.
@inlinable
public func meanSquaredError<S>(_ predictions: Variable<S>, _ targets: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { predictions.at(file, line) {
    checkSameShape(predictions, targets, op: "meanSquaredError")
    return predictions.tape.record("meanSquaredError", shape: [], predictions, targets, kernel: MeanSquaredErrorForward.self,
                                   pullback: { ctx in
        let (p, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        let scale = 2 * ctx.output.gradient.unsafelyUnwrapped[0] / S(n)
        if let gp = ctx.a.gradient { for i in 0..<n { gp[i] += scale * (p[i] - t[i]) } }
        if let gt = ctx.b.gradient { for i in 0..<n { gt[i] -= scale * (p[i] - t[i]) } }
    })
} }

/// Binary cross-entropy of probabilities: -mean(t·log p + (1-t)·log(1-p)), with p clamped to
/// [ε, 1-ε] so that 0 and 1 give no NaN; NaN for empty tensors. ∂/∂p = (p - t)/(p(1-p))/n
/// inside the clamp (its ends included), 0 outside; ∂/∂t = -log(p/(1-p))/n.
@inlinable
public func binaryCrossEntropy<S>(_ probabilities: Variable<S>, _ targets: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { probabilities.at(file, line) {
    checkSameShape(probabilities, targets, op: "binaryCrossEntropy")
    return probabilities.tape.record("binaryCrossEntropy", shape: [], probabilities, targets,
                                     kernel: BinaryCrossEntropyForward.self, pullback: { ctx in
        let (p, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        let eps = probabilityEpsilon(S.self)
        let scale = ctx.output.gradient.unsafelyUnwrapped[0] / S(n)
        if let gp = ctx.a.gradient {
            for i in 0..<n where p[i] >= eps && p[i] <= 1 - eps {
                gp[i] += scale * (p[i] - t[i]) / (p[i] * (1 - p[i]))
            }
        }
        if let gt = ctx.b.gradient {
            for i in 0..<n {
                let q = clampedProbability(p[i], eps)
                gt[i] -= scale * (S.log(q) - S.log(1 - q))
            }
        }
    })
} }

/// Binary cross-entropy on logits z (before the sigmoid), computed stably as
/// mean(softplus(z) - z·t), softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^-|z|); NaN for
/// empty tensors. ∂/∂z = (σ(z) - t)/n, ∂/∂t = -z/n.
@inlinable
public func binaryCrossEntropy<S>(logits: Variable<S>, targets: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { logits.at(file, line) {
    checkSameShape(logits, targets, op: "binaryCrossEntropy(logits:)")
    return logits.tape.record("binaryCrossEntropy(logits:)", shape: [], logits, targets,
                              kernel: BinaryCrossEntropyOfLogitsForward.self, pullback: { ctx in
        let (z, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        let scale = ctx.output.gradient.unsafelyUnwrapped[0] / S(n)
        if let gz = ctx.a.gradient { for i in 0..<n { gz[i] += scale * (ScalarMath.sigmoid(z[i]) - t[i]) } }
        if let gt = ctx.b.gradient { for i in 0..<n { gt[i] -= scale * z[i] } }
    })
} }

/// Cross-entropy of probabilities `[batch, classes]` against target distributions (one-hot
/// rows) of the same shape: -Σ t·log p / batch, p clamped to [ε, 1]; NaN for an empty batch.
/// ∂/∂p = -t/p/batch where p ≥ ε, else 0; ∂/∂t = -log p/batch.
@inlinable
public func crossEntropy<S>(_ probabilities: Variable<S>, _ targets: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { probabilities.at(file, line) {
    checkSameShape(probabilities, targets, op: "crossEntropy")
    let s = probabilities.shape
    let batch = s.count >= 2 ? s[0] : 1
    return probabilities.tape.record("crossEntropy", shape: [], probabilities, targets, auxInt: batch,
                                     kernel: CrossEntropyForward.self, pullback: { ctx in
        let (p, t, n) = (ctx.a.value, ctx.b.value, ctx.a.count)
        let eps = probabilityEpsilon(S.self)
        let scale = ctx.output.gradient.unsafelyUnwrapped[0] / S(ctx.auxInt)
        if let gp = ctx.a.gradient { for i in 0..<n where p[i] >= eps { gp[i] -= scale * t[i] / p[i] } }
        if let gt = ctx.b.gradient { for i in 0..<n { gt[i] -= scale * S.log(p[i] < eps ? eps : p[i]) } }
    })
} }

/// Cross-entropy of probabilities `[batch, classes]` against class indices:
/// -Σ log p[i, label_i] / batch, p clamped below at ε; NaN for an empty batch.
/// ∂/∂p[i, label_i] = -1/(p·batch) where p ≥ ε, else 0.
@inlinable
public func crossEntropy<S>(_ probabilities: Variable<S>, labels: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { probabilities.at(file, line) {
    let (batch, classes) = checkedLabels(probabilities.shape, labels, op: "crossEntropy")
    return probabilities.tape.record("crossEntropy", shape: [], probabilities, auxInt: classes, savedInts: batch,
                                     kernel: CrossEntropyOfLabelsForward.self, saving: { ctx in
        for (i, label) in labels.enumerated() { ctx.savedInts[i] = label }
    }, pullback: { ctx in
        guard let gp = ctx.a.gradient else { return }
        let p = ctx.a.value
        let classes = ctx.auxInt
        let batch = ctx.a.count / Swift.max(classes, 1)
        let eps = probabilityEpsilon(S.self)
        let scale = ctx.output.gradient.unsafelyUnwrapped[0] / S(batch)
        for i in 0..<batch {
            let j = i * classes + ctx.savedInts[i]
            if p[j] >= eps { gp[j] -= scale / p[j] }
        }
    })
} }

/// Fused softmax and cross-entropy of logits `[batch, classes]` against class indices:
/// mean over rows of (log Σ e^z - z[label]), stable for logits of any size. One forward pass
/// keeps the probabilities; the pullback is the one-pass ∂/∂z = (softmax - onehot)/batch.
@inlinable
public func softmaxCrossEntropy<S>(logits: Variable<S>, labels: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { logits.at(file, line) {
    let (batch, classes) = checkedLabels(logits.shape, labels, op: "softmaxCrossEntropy")
    return labels.withUnsafeBufferPointer { labels in
        softmaxCrossEntropy(logits: logits, labels: labels, batch: batch, classes: classes)
    }
} }

/// `softmaxCrossEntropy(logits:labels:)` with the labels in a buffer instead of an array (no array needed per
/// minibatch). - Precondition: one label per row, each in 0..<classes.
@inlinable
public func softmaxCrossEntropy<S>(logits: Variable<S>, labels: UnsafeBufferPointer<Int>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { logits.at(file, line) {
    // The shape read in place: the loss of a training step allocates nothing.
    let shape = logits.shapeBuffer("softmaxCrossEntropy")
    let (batch, classes) = shape.count == 2 && labels.count == shape[0] && labels.allSatisfy({ (0..<shape[1]).contains($0) })
        ? (shape[0], shape[1]) : checkedLabels(Array(shape), labels, op: "softmaxCrossEntropy")
    return softmaxCrossEntropy(logits: logits, labels: labels, batch: batch, classes: classes)
} }

@inlinable
func softmaxCrossEntropy<S>(logits: Variable<S>, labels: UnsafeBufferPointer<Int>, batch: Int, classes: Int) -> Variable<S> {
    logits.tape.record("softmaxCrossEntropy", shape: [], logits, auxInt: classes, savedScalars: batch * classes,
                       savedInts: batch, kernel: SoftmaxCrossEntropyOfLabelsForward.self, saving: { ctx in
        for i in 0..<batch { ctx.savedInts[i] = labels[i] }
    }, pullback: { ctx in
        guard let gz = ctx.a.gradient else { return }
        let classes = ctx.auxInt
        let batch = ctx.a.count / Swift.max(classes, 1)
        let p = ctx.savedScalars
        let scale = ctx.output.gradient.unsafelyUnwrapped[0] / S(batch)
        for i in 0..<batch {
            let row = i * classes
            for j in 0..<classes { gz[row + j] += scale * p[row + j] }
            gz[row + ctx.savedInts[i]] -= scale
        }
    })
}

/// Fused softmax and cross-entropy of logits `[batch, classes]` against target distributions
/// of the same shape (one-hot rows, or soft labels): Σ_rows (Σt·log Σ e^z - Σ t·z) / batch.
/// ∂/∂z = (softmax·Σt - t)/batch; ∂/∂t = -log softmax/batch.
@inlinable
public func softmaxCrossEntropy<S>(logits: Variable<S>, targets: Variable<S>, file: StaticString = #fileID, line: UInt = #line) -> Variable<S> { logits.at(file, line) {
    checkSameShape(logits, targets, op: "softmaxCrossEntropy")
    let s = logits.shape
    Failure.check(s.count == 2, "softmaxCrossEntropy: logits \(ShapeMath.describe(s)) must be [batch, classes]")
    let (batch, classes) = (s[0], s[1])
    return logits.tape.record("softmaxCrossEntropy", shape: [], logits, targets, auxInt: classes,
                              savedScalars: batch * classes + 2 * batch, kernel: SoftmaxCrossEntropyForward.self,
                              pullback: { ctx in
        let classes = ctx.auxInt
        let batch = ctx.a.count / Swift.max(classes, 1)
        let (z, t, p) = (ctx.a.value, ctx.b.value, ctx.savedScalars)
        let lse = p + batch * classes
        let scale = ctx.output.gradient.unsafelyUnwrapped[0] / S(batch)
        for i in 0..<batch {
            let row = i * classes
            if let gz = ctx.a.gradient {
                var mass: S = 0
                for j in 0..<classes { mass += t[row + j] }
                for j in 0..<classes { gz[row + j] += scale * (p[row + j] * mass - t[row + j]) }
            }
            if let gt = ctx.b.gradient {
                for j in 0..<classes { gt[row + j] += scale * ((lse[2 * i] - z[row + j]) + lse[2 * i + 1]) }
            }
        }
    })
} }

/// (batch, classes) for a [batch, classes] input with one label per row, or a stop naming
/// the op and what is wrong.
@inlinable
func checkedLabels<C: Collection<Int>>(_ shape: [Int], _ labels: C, op: StaticString) -> (Int, Int) {
    Failure.check(shape.count == 2, "\(op): input \(ShapeMath.describe(shape)) must be [batch, classes]")
    let (batch, classes) = (shape[0], shape[1])
    Failure.check(labels.count == batch, "\(op): \(labels.count) labels for a batch of \(batch) (input \(ShapeMath.describe(shape)))")
    for (row, label) in labels.enumerated() where label < 0 || label >= classes {
        Failure.stop("\(op): label \(label) at row \(row) is out of range for \(classes) classes")
    }
    return (batch, classes)
}
