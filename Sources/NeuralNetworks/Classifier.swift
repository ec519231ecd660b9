import Autodiff
import Dispatch

/// A model that maps `[batch, features]` to class logits, with the parameters it trains.
public protocol ClassifierModel<Scalar>: SendableMetatype {
    /// The scalar type.
    associatedtype Scalar: TensorScalar
    /// Logits `[batch, classes]` for a batch, in inference mode.
    func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar>
    /// Logits in training mode (`training: true`: dropout active) or inference mode; the
    /// default is the inference form, for models that behave the same in both.
    func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar>
    /// Every trainable parameter.
    var parameters: [Variable<Scalar>] { get }
    /// State saved with the model but not trained (``BatchNorm``'s running statistics).
    var buffers: [LayerBuffer<Scalar>] { get }
}

extension ClassifierModel {
    /// None.
    public var buffers: [LayerBuffer<Scalar>] { [] }

    /// The model in inference form, for models without training-only behaviour.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> { self(x) }
}

extension MLP: ClassifierModel {}

/// What a classifier's training step minimises.
public enum ClassifierLoss: String, Sendable, CaseIterable {
    /// Softmax cross-entropy of the logits against the labels (fused; the usual choice).
    case crossEntropy = "ce"
    /// Mean squared error of the softmax probabilities against one-hot labels, as some
    /// tutorials train MNIST.
    case meanSquaredError = "mse"
}

/// Trains and evaluates a classifier with softmax cross-entropy: the training step and the
/// batched evaluation every example shares.
///
/// With several workers (``init(workers:optimizer:weightDecay:makeModel:)``) each worker owns a
/// tape with its own copy of the parameters; a step splits the batch between them, runs their
/// forward and backward passes at the same time, sums the gradients in a fixed order (so
/// results do not depend on timing), updates the first copy and copies it to the others. One
/// thread hand-off per step instead of one per matrix product: measured faster on 2 cores than
/// splitting each product (see README, `bench mlp --threads 2`).
public struct ClassifierTrainer<Model: ClassifierModel> {
    /// The scalar type of the model.
    public typealias Scalar = Model.Scalar
    /// The tape holding the (first copy of the) model's parameters.
    public let tape: Tape<Scalar>
    /// The model (the first copy).
    public let model: Model
    /// The optimizer, with its state.
    public var optimizer: GradientDescent<Scalar>
    /// What each step minimises (evaluation always reports cross-entropy).
    public var loss: ClassifierLoss = .crossEntropy
    @usableFromInline let parameters: [Variable<Scalar>]
    /// The number of scalars in all parameters together.
    @usableFromInline let parameterElements: Int
    /// The other workers' models; empty when training on one thread.
    @usableFromInline let replicas: [Model]
    /// Every worker's model, the first one first (built once, not per step).
    @usableFromInline let workerModels: UncheckedSendable<[Model]>
    /// The processes of a data-parallel job this trainer is one replica of, or nil (the
    /// default): training in this process alone. See ``step(features:labels:batchRows:learningRate:)``.
    public var replicaGroup: (any ReplicaGroup<Scalar>)?

    /// A trainer for `model`, whose parameters live on `tape`, on the calling thread (matrix
    /// products may still use several threads, see `ComputeSettings.maxThreads`).
    public init(model: Model, tape: Tape<Scalar>, optimizer: OptimizerKind, weightDecay: Double = 0) {
        self.tape = tape
        self.model = model
        parameters = model.parameters
        parameterElements = parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }
        replicas = []
        workerModels = UncheckedSendable([model])
        self.optimizer = optimizer.make(for: parameters, weightDecay: weightDecay)
    }

    /// A trainer whose steps run on `workers` threads, each on its own tape with a model
    /// from `makeModel` (called once per worker; the copies start from the first one's weights).
    public init(workers: Int, optimizer: OptimizerKind, weightDecay: Double = 0, makeModel: (Tape<Scalar>) -> Model) {
        Failure.check(workers >= 1, "ClassifierTrainer: workers must be at least 1, got \(workers)")
        let tapes = (0..<workers).map { _ in Tape<Scalar>() }
        let models = tapes.map(makeModel)
        tape = tapes[0]
        model = models[0]
        parameters = model.parameters
        parameterElements = parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }
        replicas = Array(models.dropFirst())
        workerModels = UncheckedSendable(models)
        self.optimizer = optimizer.make(for: parameters, weightDecay: weightDecay)
        if workers > 1 {
            for tape in tapes { tape.matrixThreads = 1 }
        }
        synchronizeReplicas()
    }

    /// NaN/±Inf detection on every worker's tape (see `Tape.anomalyDetection`).
    public var anomalyDetection: AnomalyDetection {
        get { tape.anomalyDetection }
        nonmutating set { for model in workerModels.value { model.parameters.first?.tape.anomalyDetection = newValue } }
    }

    /// The first anomaly any worker's tape recorded (with `.record`), or nil.
    public var anomaly: Anomaly? {
        workerModels.value.lazy.compactMap { $0.parameters.first?.tape.anomaly }.first
    }

    /// The number of threads a step runs on.
    public var workers: Int { replicas.count + 1 }

    /// Copies the first model's parameters and buffers to the other workers' copies (the
    /// running statistics the model keeps are the first worker's, as PyTorch DDP broadcasts
    /// rank 0's buffers).
    @usableFromInline
    func synchronizeReplicas() {
        for replica in replicas {
            for (source, target) in zip(model.buffers, replica.buffers) { target.value = source.value }
            for (source, target) in zip(parameters, replica.parameters) {
                source.tape.withValue(of: source) { value in
                    target.tape.withMutableValue(of: target) { $0.baseAddress!.update(from: value.baseAddress!, count: value.count) }
                }
            }
        }
    }

    /// Forward and backward on one part of a batch; returns (loss, correct).
    @inlinable
    static func forwardBackward(
        _ model: Model, features: UnsafeBufferPointer<Scalar>, labels: UnsafeBufferPointer<Int>, lossKind: ClassifierLoss
    ) -> (loss: Scalar, correct: Int) {
        let tape = model.parameters[0].tape
        tape.reset()
        let rows = labels.count
        let x = tape.constant(rows: rows, columns: features.count / max(rows, 1), copying: features)
        let logits = model(x, training: true)
        let loss: Variable<Scalar>
        switch lossKind {
        case .crossEntropy:
            loss = softmaxCrossEntropy(logits: logits, labels: labels)
        case .meanSquaredError:
            let classes = tape.shape(of: logits)[1]
            let targets = withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows * classes) { onehot in
                onehot.initialize(repeating: 0)
                for i in 0..<rows { onehot[i * classes + labels[i]] = 1 }
                return tape.constant(shape: [rows, classes], copying: UnsafeBufferPointer(onehot))
            }
            loss = meanSquaredError(logits.softmax(), targets)
        }
        tape.backward(loss)
        let correct = tape.withValue(of: logits) { z in
            let classes = z.count / max(rows, 1)
            var correct = 0
            for i in 0..<rows {
                var best = 0
                for j in 1..<classes where z[i * classes + j] > z[i * classes + best] { best = j }
                if best == labels[i] { correct += 1 }
            }
            return correct
        }
        return (loss.scalar, correct)
    }

    /// One step on a batch (`rows × features` row-major, one label per row): forward, loss,
    /// backward, update. Returns the batch loss and how many rows the model (before the
    /// update) classified correctly.
    @discardableResult @inlinable
    public mutating func step(
        features: UnsafeBufferPointer<Scalar>, labels: UnsafeBufferPointer<Int>, learningRate: Scalar
    ) -> (loss: Scalar, correct: Int) {
        let rows = labels.count
        if replicas.isEmpty || rows < 2 * workers {
            let result = Self.forwardBackward(model, features: features, labels: labels, lossKind: loss)
            // One tape: the update stays on this thread (splitting it measured no faster at 2
            // threads, products split).
            updateParameters(rows: rows, contributors: 1, threads: replicas.isEmpty ? 1 : workers, learningRate: learningRate)
            return result
        }
        // Each worker takes a contiguous share of the rows; the loss is a mean over rows, so
        // the full-batch gradient is the row-weighted mean of the workers' gradients.
        let parts = workers
        let (loss, correct) = runWorkers(features: features, labels: labels, batchRows: rows, parts: parts, firstPart: 0)
        updateParameters(rows: rows, contributors: parts, threads: parts, learningRate: learningRate)
        return (loss, correct)
    }

    /// Forward and backward of every worker at once, worker t on part `firstPart + t` of a batch
    /// of `batchRows` rows cut in `parts` (part k: rows k·batchRows/parts..<(k+1)·batchRows/parts;
    /// `features` and `labels` start at part `firstPart`'s first row). Returns the loss weighted
    /// by each part's share of the batch, added in part order, and how many rows were right.
    @inlinable
    func runWorkers(
        features: UnsafeBufferPointer<Scalar>, labels: UnsafeBufferPointer<Int>, batchRows: Int, parts: Int, firstPart: Int
    ) -> (loss: Scalar, correct: Int) {
        let threads = workers
        let width = features.count / max(labels.count, 1)
        @Sendable @inline(__always) func bound(_ part: Int) -> Int { part * batchRows / parts }
        let offset = bound(firstPart)
        let models = workerModels
        let lossKind = self.loss
        let featureAddress = UInt(bitPattern: features.baseAddress)
        let labelAddress = UInt(bitPattern: labels.baseAddress)
        // The per-worker results live on the stack: a training step allocates nothing here.
        return withUnsafeTemporaryAllocation(of: (loss: Scalar, correct: Int).self, capacity: threads) { buffer in
            let results = UncheckedSendable(buffer)
            ComputeSettings.parallelParts(threads, threads: threads) { t in
                let (start, end) = (bound(firstPart + t) - offset, bound(firstPart + t + 1) - offset)
                guard end > start else { results.value[t] = (0, 0); return }
                let f = UnsafePointer<Scalar>(bitPattern: featureAddress)!
                let l = UnsafePointer<Int>(bitPattern: labelAddress)!
                results.value[t] = Self.forwardBackward(
                    models.value[t], features: UnsafeBufferPointer(start: f + start * width, count: (end - start) * width),
                    labels: UnsafeBufferPointer(start: l + start, count: end - start), lossKind: lossKind)
            }
            var loss: Scalar = 0, correct = 0
            for t in 0..<threads {
                loss += Scalar(bound(firstPart + t + 1) - bound(firstPart + t)) / Scalar(batchRows) * buffer[t].loss
                correct += buffer[t].correct
            }
            return (loss, correct)
        }
    }

    /// The rows of a batch of `batchRows` rows that process `rank` of `count` trains on in a
    /// data-parallel step (a contiguous share, as the threads of one process share a batch).
    @inlinable
    public static func rows(ofRank rank: Int, of count: Int, batchRows: Int) -> Range<Int> {
        (rank * batchRows / count)..<((rank + 1) * batchRows / count)
    }

    /// One step of a data-parallel job (``replicaGroup`` set): `features` and `labels` are this
    /// process's rows of a batch of `batchRows` rows (``rows(ofRank:of:batchRows:)``). Each
    /// process runs forward and backward on its rows (split across its ``workers``), weights its
    /// gradient by its share of the batch, the weighted gradients are summed across processes in
    /// rank order, and every process applies the same update: the replicas stay identical.
    /// Returns the loss of the whole batch and how many of its rows were classified correctly,
    /// the same in every process.
    ///
    /// With one worker per process, P processes give the bits one process gets with P workers
    /// (``init(workers:optimizer:weightDecay:makeModel:)``) on batches of at least 2P rows: the
    /// same parts, weighted alike, added in the same order. With W workers each, the parts are
    /// the same but each process adds its own first, so the bits match neither one process with
    /// P·W workers nor another W; they are the same run after run.
    @discardableResult @inlinable
    public mutating func step(
        features: UnsafeBufferPointer<Scalar>, labels: UnsafeBufferPointer<Int>, batchRows: Int, learningRate: Scalar
    ) -> (loss: Scalar, correct: Int) {
        guard let group = replicaGroup else {
            Failure.stop("ClassifierTrainer.step(batchRows:): no replicaGroup; use step(features:labels:learningRate:) in one process")
        }
        let (ranks, rank, threads) = (group.count, group.rank, workers)
        let mine = Self.rows(ofRank: rank, of: ranks, batchRows: batchRows)
        let rows = labels.count
        Failure.check(rows == mine.count, "ClassifierTrainer.step: rank \(rank) of \(ranks) takes rows \(mine) of a batch of \(batchRows), given \(rows) labels")
        let width = features.count / max(rows, 1)
        Failure.check(features.count == rows * width, "ClassifierTrainer.step: features [\(features.count)] do not hold \(rows) rows")
        let parts = ranks * threads
        // Global part k takes rows bound(k)..<bound(k + 1) of the batch; this process has parts
        // rank·threads..<(rank + 1)·threads, whose rows start at mine.lowerBound.
        @Sendable @inline(__always) func bound(_ part: Int) -> Int { part * batchRows / parts }
        let models = workerModels
        let firstPart = rank * threads
        let total = parameterElements + 2
        let sums = group.addend(count: total)
        // Each part weighted by its share of the whole batch, as one process weights its workers'.
        @inline(__always) func weight(_ t: Int) -> Scalar {
            Scalar(bound(firstPart + t + 1) - bound(firstPart + t)) / Scalar(batchRows)
        }
        let (loss, correct) = runWorkers(features: features, labels: labels, batchRows: batchRows, parts: parts, firstPart: firstPart)
        sums[total - 2] = loss
        sums[total - 1] = Scalar(correct)
        var start = 0
        for p in 0..<parameters.count {
            let count = optimizer.counts[p]
            let target = sums.baseAddress! + start
            for t in 0..<threads {
                let share = weight(t)
                let model = models.value[t].parameters[p]
                let empty = bound(firstPart + t + 1) == bound(firstPart + t)
                model.tape.withGradient(of: model) { g in
                    if t == 0 {
                        if empty { target.update(repeating: 0, count: count) } else { for i in 0..<count { target[i] = share * g[i] } }
                    } else if !empty {
                        for i in 0..<count { target[i] += share * g[i] }
                    }
                }
            }
            start += count
        }
        // Each process updates its share of the elements from their sum (the optimizer runs on
        // 1/p of the parameters in each), writes the new values over the sum, and all gather them.
        let share = group.sumShare(count: total)
        let mineRange = group.share(of: total)
        Failure.check(share.count == mineRange.count, "ClassifierTrainer.step: the group's share has \(share.count) elements, not \(mineRange.count)")
        let parameterCount = parameters.count
        let shareBase = UncheckedSendable(share.baseAddress!)
        let split = mineRange.count >= 1 << 16 ? threads : 1
        optimizer.withUpdate(parameters, learningRate: learningRate) { update in
            ComputeSettings.parallelParts(split, threads: split) { part in
                let low = mineRange.lowerBound + part * mineRange.count / split
                let high = mineRange.lowerBound + (part + 1) * mineRange.count / split
                var offset = 0
                for p in 0..<parameterCount {
                    let count = update.parameters[p].count
                    defer { offset += count }
                    let (lower, upper) = (Swift.max(low, offset), Swift.min(high, offset + count))
                    guard lower < upper, let w = update.parameters[p].value else { continue }
                    // gradient[i] is element offset + i of the flat sum; this share starts at mineRange.lowerBound.
                    let gradient = UnsafePointer(shareBase.value) + (offset - mineRange.lowerBound)
                    let range = (lower - offset)..<(upper - offset)
                    update.apply(p, range, gradient: gradient)
                    if ranks > 1 || threads > 1 {
                        (shareBase.value + (lower - mineRange.lowerBound)).update(from: w + range.lowerBound, count: range.count)
                    }
                }
            }
        }
        // The loss and count at the end stay summed; the weights come from every share.
        let all = group.gatherShares(count: total)
        var flat = 0
        for p in 0..<parameterCount where ranks > 1 || threads > 1 {
            let count = optimizer.counts[p]
            for (t, model) in models.value.enumerated() {
                let parameter = model.parameters[p]
                parameter.tape.withMutableValue(of: parameter) { w in
                    let source = all.baseAddress! + flat
                    if t > 0 {
                        w.baseAddress!.update(from: source, count: count)
                        return
                    }
                    // The first copy already holds this process's share.
                    let (lower, upper) = (Swift.max(mineRange.lowerBound, flat), Swift.min(mineRange.upperBound, flat + count))
                    if lower >= upper {
                        w.baseAddress!.update(from: source, count: count)
                    } else {
                        w.baseAddress!.update(from: source, count: lower - flat)
                        (w.baseAddress! + (upper - flat)).update(from: source + (upper - flat), count: flat + count - upper)
                    }
                }
            }
            flat += count
        }
        return (all[total - 2], Int(all[total - 1]))
    }

    /// After data-parallel steps (``replicaGroup``), each process has kept the optimizer's state
    /// (moments) current for its own share of the parameters only: this gathers every share
    /// into every process, so that ``GradientDescent/state(names:shapes:)`` is whole (for a
    /// checkpoint). Collective: every process calls it. Nothing to do in one process.
    public mutating func gatherOptimizerState() {
        guard let group = replicaGroup, group.count > 1 else { return }
        let total = parameterElements + 2
        for moment in 0..<2 {
            let available = moment == 0 ? !optimizer.first.isEmpty : !optimizer.second.isEmpty
            guard available else { continue }
            _ = group.addend(count: total)
            let share = group.sumShare(count: total)
            let mine = group.share(of: total)
            // This process's share of the state over the sum's share; the loss and count slots stay.
            let end = Swift.min(mine.upperBound, parameterElements)
            if mine.lowerBound < end {
                let source = moment == 0 ? optimizer.first : optimizer.second
                source.withUnsafeBufferPointer { state in
                    share.baseAddress!.update(from: state.baseAddress! + mine.lowerBound, count: end - mine.lowerBound)
                }
            }
            let all = group.gatherShares(count: total)
            let whole = Array(UnsafeBufferPointer(rebasing: all[0..<parameterElements]))
            if moment == 0 { optimizer.first = whole } else { optimizer.second = whole }
        }
    }

    /// After the backward passes of the first `contributors` workers: their gradients summed
    /// into the first copy's, each weighted by its share of the `rows`, the optimizer's update,
    /// and the copy to the other workers, in one pass per parameter split by elements across
    /// up to `threads` threads (small models stay on one). Each element is computed as on one
    /// thread, so the split changes no bit.
    @inlinable
    mutating func updateParameters(rows: Int, contributors: Int, threads: Int, learningRate: Scalar) {
        let parameterCount = parameters.count
        let replicaCount = replicas.count
        let parts = parameterElements >= 1 << 16 ? max(1, threads) : 1
        withUnsafeTemporaryAllocation(of: (value: UnsafeMutablePointer<Scalar>, gradient: UnsafePointer<Scalar>?).self,
                                      capacity: max(1, replicaCount * parameterCount)) { others in
            for (r, replica) in replicas.enumerated() {
                for (p, other) in replica.parameters.enumerated() {
                    other.tape.withMutableValue(of: other) { w in others[r * parameterCount + p] = (w.baseAddress!, nil) }
                    if r + 1 < contributors {
                        other.tape.withGradient(of: other) { g in others[r * parameterCount + p].gradient = g.baseAddress! }
                    }
                }
            }
            let table = UncheckedSendable(others)
            // Worker r's weight: its share of the rows.
            @Sendable func weight(_ r: Int) -> Scalar {
                Scalar((r + 1) * rows / contributors - r * rows / contributors) / Scalar(rows)
            }
            optimizer.withUpdate(parameters, learningRate: learningRate) { update in
                ComputeSettings.parallelParts(parts, threads: parts) { part in
                    for p in 0..<parameterCount {
                        let count = update.parameters[p].count
                        let range = (part * count / parts)..<((part + 1) * count / parts)
                        guard !range.isEmpty, let gradient = update.parameters[p].gradient, let w = update.parameters[p].value else { continue }
                        if contributors > 1 {
                            let total = UnsafeMutablePointer(mutating: gradient)
                            let first = weight(0)
                            for i in range { total[i] *= first }
                            for r in 0..<(contributors - 1) {
                                let (g, share) = (table.value[r * parameterCount + p].gradient.unsafelyUnwrapped, weight(r + 1))
                                for i in range { total[i] += share * g[i] }
                            }
                        }
                        update.apply(p, range)
                        for r in 0..<replicaCount {
                            (table.value[r * parameterCount + p].value + range.lowerBound).update(from: w + range.lowerBound, count: range.count)
                        }
                    }
                }
            }
        }
    }

    /// Class probabilities `[count, classes]` for every row of `features`, computed in batches
    /// of `batchSize` rows without recording gradients, spread over the workers' models (the
    /// same result as on one).
    @inlinable
    public func probabilities(_ features: Tensor<Scalar>, batchSize: Int = 1000) -> Tensor<Scalar> {
        Failure.check(features.rank == 2, "probabilities: features \(features.shape) must be [count, features]")
        Failure.check(batchSize >= 1, "probabilities: batch size \(batchSize) must be at least 1")
        let (count, width) = (features.shape[0], features.shape[1])
        let chunks = (count + batchSize - 1) / batchSize
        // With several workers each takes every workers-th chunk on its own model: a chunk is
        // computed as on one worker, so the result does not depend on the split. The copies
        // first take the first model's weights (a caller may have assigned them).
        let parts = Swift.min(workers, Swift.max(chunks, 1))
        if parts > 1 { synchronizeReplicas() }
        let models = workerModels
        var pieces = [[Scalar]](repeating: [], count: chunks)
        features.withUnsafeBufferPointer { all in
            let address = UInt(bitPattern: all.baseAddress)
            pieces.withUnsafeMutableBufferPointer { slots in
                let out = UncheckedSendable(slots)
                ComputeSettings.parallelParts(parts, threads: parts) { part in
                    let model = models.value[part]
                    let tape = model.parameters[0].tape
                    let base = UnsafePointer<Scalar>(bitPattern: address)
                    var chunk = part
                    while chunk < chunks, let base {
                        let (start, end) = (chunk * batchSize, Swift.min(count, (chunk + 1) * batchSize))
                        tape.reset()
                        let p = tape.withoutGradients {
                            model(tape.constant(shape: [end - start, width],
                                                copying: UnsafeBufferPointer(start: base + start * width, count: (end - start) * width))).softmax()
                        }
                        out.value[chunk] = p.value.scalars
                        chunk += parts
                    }
                    tape.reset()
                }
            }
        }
        let classes = count > 0 ? pieces[0].count / Swift.min(count, batchSize) : 0
        return Tensor(shape: [count, classes], scalars: pieces.flatMap { $0 })
    }

    /// The predicted class of every row.
    @inlinable
    public func predictions(_ features: Tensor<Scalar>) -> [Int] { probabilities(features).argmaxRows() }

    /// The fraction of rows whose predicted class equals the label, and the mean
    /// cross-entropy loss.
    @inlinable
    public func evaluate(_ features: Tensor<Scalar>, labels: [Int]) -> (accuracy: Double, loss: Double) {
        Self.evaluate(probabilities: probabilities(features), labels: labels)
    }

    /// Accuracy and mean cross-entropy from probabilities already computed (``probabilities(_:batchSize:)``),
    /// so a caller that also wants the predictions runs the model once.
    @inlinable
    public static func evaluate(probabilities p: Tensor<Scalar>, labels: [Int]) -> (accuracy: Double, loss: Double) {
        let predicted = p.argmaxRows()
        let classes = p.shape[1]
        var correct = 0
        var loss = 0.0
        p.withUnsafeBufferPointer { probabilities in
            for (i, label) in labels.enumerated() {
                if predicted[i] == label { correct += 1 }
                loss -= Double.log(max(Double(probabilities[i * classes + label]), 1e-12))
            }
        }
        return (Double(correct) / Double(max(labels.count, 1)), loss / Double(max(labels.count, 1)))
    }
}

/// A value handed to worker threads that each touch only their own part of it.
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @inlinable init(_ value: Value) { self.value = value }
}
