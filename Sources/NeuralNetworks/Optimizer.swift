import Autodiff
import CKernels
import Foundation

/// Changes parameters in place from their gradients after a backward pass.
public protocol Optimizer<Scalar> {
    /// The scalar type of the parameters.
    associatedtype Scalar: TensorScalar
    /// One update of every parameter with the given learning rate.
    mutating func step(_ parameters: [Variable<Scalar>], learningRate: Scalar)
}

/// Which optimizer, with its hyperparameters; ``make(for:weightDecay:)`` builds it.
public enum OptimizerKind: Sendable, Equatable, CustomStringConvertible {
    /// Plain gradient descent: w -= lr·g.
    case sgd
    /// Heavy-ball momentum: v = μv - lr·g; w += v.
    case momentum(Double)
    /// AdaGrad: h += g²; w -= lr·g/(√h + ε).
    case adaGrad
    /// RMSprop: h = ρh + (1-ρ)g²; w -= lr·g/(√h + ε).
    case rmsProp(decay: Double)
    /// Adam with bias correction.
    case adam(beta1: Double, beta2: Double)

    /// Parses `sgd`, `momentum`, `adagrad`, `rmsprop`, `adam` (with the usual defaults).
    public init?(name: String) {
        switch name.lowercased() {
        case "sgd": self = .sgd
        case "momentum": self = .momentum(0.9)
        case "adagrad": self = .adaGrad
        case "rmsprop": self = .rmsProp(decay: 0.99)
        case "adam": self = .adam(beta1: 0.9, beta2: 0.999)
        default: return nil
        }
    }

    /// The name that ``init(name:)`` parses.
    public var description: String {
        switch self {
        case .sgd: "sgd"
        case .momentum: "momentum"
        case .adaGrad: "adagrad"
        case .rmsProp: "rmsprop"
        case .adam: "adam"
        }
    }

    /// The optimizer, with L2 weight decay `weightDecay` on weight matrices (biases are
    /// not decayed): g += λ·w, the gradient of λ/2·‖W‖².
    public func make<S: TensorScalar>(for parameters: [Variable<S>], weightDecay: Double = 0) -> GradientDescent<S> {
        GradientDescent(kind: self, parameters: parameters, weightDecay: S(weightDecay))
    }
}

/// The five update rules of ``OptimizerKind`` with their per-parameter state, allocated once.
public struct GradientDescent<Scalar: TensorScalar>: Optimizer {
    /// The rule.
    public let kind: OptimizerKind
    /// L2 decay coefficient for parameters of rank ≥ 2.
    public let weightDecay: Scalar
    /// The moments or accumulators of every parameter, one after another (``offsets``): the first
    /// (momentum, Adam's m) and the second (AdaGrad's and RMSprop's h, Adam's v); empty when the
    /// rule keeps none.
    @usableFromInline var first: [Scalar]
    @usableFromInline var second: [Scalar]
    /// Where each parameter's state starts in `first` and `second`, and its element count.
    @usableFromInline let offsets: [Int]
    @usableFromInline let counts: [Int]
    @usableFromInline var decays: [Bool]
    @usableFromInline var steps = 0
    /// The list ``withUpdate(_:learningRate:_:)`` fills, kept so that a warm step allocates nothing.
    @usableFromInline var parameterBuffers: [OptimizerUpdate<Scalar>.Parameter] = []

    /// State for `parameters` (their count and shapes must not change afterwards).
    public init(kind: OptimizerKind, parameters: [Variable<Scalar>], weightDecay: Scalar = 0) {
        self.kind = kind
        self.weightDecay = weightDecay
        counts = parameters.map { $0.shape.reduce(1, *) }
        offsets = Array(counts.reduce(into: [0]) { $0.append($0.last! + $1) }.dropLast())
        let total = counts.reduce(0, +)
        let needsFirst: Bool
        let needsSecond: Bool
        switch kind {
        case .sgd: (needsFirst, needsSecond) = (false, false)
        case .momentum: (needsFirst, needsSecond) = (true, false)
        case .adaGrad, .rmsProp: (needsFirst, needsSecond) = (false, true)
        case .adam: (needsFirst, needsSecond) = (true, true)
        }
        first = [Scalar](repeating: 0, count: needsFirst ? total : 0)
        second = [Scalar](repeating: 0, count: needsSecond ? total : 0)
        decays = parameters.map { $0.shape.count >= 2 }
    }

    /// The number of steps taken (Adam's bias correction depends on it).
    public var stepCount: Int { steps }

    /// Parameter `p`'s part of `state` (`first` or `second`).
    func slice(_ state: [Scalar], _ p: Int) -> [Scalar] { Array(state[offsets[p]..<(offsets[p] + counts[p])]) }

    /// The optimizer's state as named tensors, for a checkpoint: `optimizer.first.NAME` and
    /// `optimizer.second.NAME` (the moments or accumulators this rule keeps) for the parameters
    /// `names` (in the order the optimizer was made for), and its step count and rule as metadata.
    public func state(names: [String], shapes: [[Int]]) -> (tensors: [(name: String, tensor: Tensor<Scalar>)], metadata: [String: String]) {
        var tensors: [(name: String, tensor: Tensor<Scalar>)] = []
        for (p, name) in names.enumerated() {
            if !first.isEmpty { tensors.append(("optimizer.first.\(name)", Tensor(shape: shapes[p], scalars: slice(first, p)))) }
            if !second.isEmpty { tensors.append(("optimizer.second.\(name)", Tensor(shape: shapes[p], scalars: slice(second, p)))) }
        }
        return (tensors, ["optimizer": "\(kind)", "optimizer.steps": "\(steps)"])
    }

    /// Restores ``state(names:shapes:)`` from a checkpoint so training resumes where it stopped.
    /// False (and nothing changed) when the checkpoint holds no optimizer state, or the state of
    /// another rule (its `optimizer` metadata names another): the weights alone resume. When it
    /// holds this rule's state, every part must fit or nothing is changed and the error names
    /// the part: the step count (a non-negative integer), and for each parameter its moments,
    /// present, of the parameter's shape, finite, and the second moments (sums of squares) not
    /// negative.
    public mutating func restore(
        _ contents: CheckpointContents<Scalar>, names: [String], shapes: [[Int]], path: String
    ) throws(CheckpointError) -> Bool {
        guard contents.metadata["optimizer"] == "\(kind)" else { return false }
        Failure.check(names.count == counts.count && shapes.count == counts.count,
                      "optimizer: made for \(counts.count) parameters, restoring \(names.count) names and \(shapes.count) shapes")
        let stepsText = contents.metadata["optimizer.steps"] ?? "(missing)"
        guard let saved = Int(stepsText), saved >= 0 else {
            throw .incompatible(path: path, reason: "the optimizer's step count 'optimizer.steps' is '\(stepsText)', not a non-negative integer")
        }
        var (newFirst, newSecond) = (first, second)
        for (p, name) in names.enumerated() {
            let range = offsets[p]..<(offsets[p] + counts[p])
            for key in ["first", "second"] where !(key == "first" ? first : second).isEmpty {
                let tensorName = "optimizer.\(key).\(name)"
                guard let tensor = contents.tensors[tensorName] else {
                    let dtype = contents.unsupported[tensorName].map { " (it has dtype \($0); F32 and F64 are supported)" } ?? ""
                    throw .incompatible(path: path, reason: "the \(kind) state lacks '\(tensorName)'\(dtype)")
                }
                guard tensor.shape == shapes[p] else {
                    throw .incompatible(path: path, reason: "'\(tensorName)' has shape \(tensor.shape), the parameter '\(name)' has \(shapes[p])")
                }
                if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite || (key == "second" && $0 < 0) }) {
                    let what = key == "second" ? "finite and not negative (a sum of squares)" : "finite"
                    throw .incompatible(path: path, reason: "'\(tensorName)' holds \(tensor.scalars[bad]) at element \(bad); it must be \(what)")
                }
                if key == "first" { newFirst.replaceSubrange(range, with: tensor.scalars) } else { newSecond.replaceSubrange(range, with: tensor.scalars) }
            }
        }
        (first, second, steps) = (newFirst, newSecond, saved)
        return true
    }

    /// The earlier form of ``restore(_:names:shapes:path:)``: false for any state that does not
    /// fit, without saying why.
    @available(*, deprecated, message: "use restore(_:names:shapes:path:), which throws an error naming what does not fit")
    public mutating func restore(_ contents: CheckpointContents<Scalar>, names: [String]) -> Bool {
        guard names.count == counts.count else { return false }
        let shapes = names.enumerated().map { p, name in
            (contents.tensors["optimizer.first.\(name)"] ?? contents.tensors["optimizer.second.\(name)"])
                .flatMap { $0.count == counts[p] ? $0.shape : nil } ?? [counts[p]]
        }
        return (try? restore(contents, names: names, shapes: shapes, path: "checkpoint")) ?? false
    }

    /// One update of every parameter.
    @inlinable
    public mutating func step(_ parameters: [Variable<Scalar>], learningRate lr: Scalar) {
        withUpdate(parameters, learningRate: lr) { update in
            for p in parameters.indices { update.apply(p, 0..<update.parameters[p].count) }
        }
    }

    /// Counts one step and calls `body` with the update rule on raw buffers, for a caller that
    /// applies it in parts (ranges of elements, on several threads): every element is updated
    /// exactly as ``step(_:learningRate:)`` updates it, however the parts are cut.
    @inlinable
    public mutating func withUpdate<R>(
        _ parameters: [Variable<Scalar>], learningRate lr: Scalar, _ body: (OptimizerUpdate<Scalar>) throws -> R
    ) rethrows -> R {
        Failure.check(parameters.count == counts.count, "optimizer: made for \(counts.count) parameters, given \(parameters.count)")
        steps += 1
        // Values and gradients live in the tapes' arenas, which stay where they are until the
        // next op is recorded: the pointers hold for the whole call.
        var buffers = parameterBuffers
        parameterBuffers = []
        buffers.removeAll(keepingCapacity: true)
        for parameter in parameters {
            parameter.tape.update(parameter) { w, g in buffers.append(.init(value: w.baseAddress, gradient: g.baseAddress, count: w.count)) }
        }
        defer { parameterBuffers = buffers }
        var rate = lr
        if case let .adam(beta1, beta2) = kind {
            // Bias correction folded into the step size.
            rate = lr * Scalar((1 - pow(beta2, Double(steps))).squareRoot() / (1 - pow(beta1, Double(steps))))
        }
        let (kind, weightDecay, decays, offsets) = (self.kind, self.weightDecay, self.decays, self.offsets)
        return try first.withUnsafeMutableBufferPointer { first in
            try second.withUnsafeMutableBufferPointer { second in
                try body(OptimizerUpdate(kind: kind, rate: rate, weightDecay: weightDecay, decays: decays, offsets: offsets,
                                         first: first.baseAddress, second: second.baseAddress, parameters: buffers))
            }
        }
    }
}

/// One step of a ``GradientDescent`` rule on raw buffers (see
/// ``GradientDescent/withUpdate(_:learningRate:_:)``), valid only inside that call. Ranges of
/// elements may be applied from several threads at once, each element by one of them.
public struct OptimizerUpdate<Scalar: TensorScalar>: @unchecked Sendable {
    /// A parameter's value and gradient in place.
    public struct Parameter {
        /// The value, updated in place.
        public let value: UnsafeMutablePointer<Scalar>?
        /// The gradient the update reads.
        public let gradient: UnsafePointer<Scalar>?
        /// The number of elements.
        public let count: Int

        @inlinable init(value: UnsafeMutablePointer<Scalar>?, gradient: UnsafePointer<Scalar>?, count: Int) {
            (self.value, self.gradient, self.count) = (value, gradient, count)
        }
    }
    @usableFromInline let kind: OptimizerKind
    /// The learning rate, with Adam's bias correction folded in.
    @usableFromInline let rate: Scalar
    @usableFromInline let weightDecay: Scalar
    @usableFromInline let decays: [Bool]
    @usableFromInline let offsets: [Int]
    @usableFromInline let first: UnsafeMutablePointer<Scalar>?
    @usableFromInline let second: UnsafeMutablePointer<Scalar>?
    /// The parameters, in the order the optimizer was made for.
    public let parameters: [Parameter]

    @inlinable
    init(kind: OptimizerKind, rate: Scalar, weightDecay: Scalar, decays: [Bool], offsets: [Int],
         first: UnsafeMutablePointer<Scalar>?, second: UnsafeMutablePointer<Scalar>?, parameters: [Parameter]) {
        (self.kind, self.rate, self.weightDecay, self.decays, self.offsets) = (kind, rate, weightDecay, decays, offsets)
        (self.first, self.second, self.parameters) = (first, second, parameters)
    }

    /// Updates elements `range` of parameter `p` from their gradient.
    @inlinable
    public func apply(_ p: Int, _ range: Range<Int>) {
        guard let g = parameters[p].gradient else { return }
        apply(p, range, gradient: g)
    }

    /// Updates elements `range` of parameter `p` from the gradient `g` (all of parameter `p`'s
    /// elements, indexed as its value) instead of the tape's: for a gradient summed elsewhere,
    /// e.g. across the processes of a data-parallel job.
    ///
    /// Subnormal numbers count as zero in the update (x86 FTZ/DAZ, arm64 FZ, as GPUs compute):
    /// a moment decaying without gradient would otherwise spend thousands of steps among them,
    /// each operation a slow microcode assist (measured: a 784-256-128-10 Adam step at batch 16
    /// took 3× as long after a few thousand steps). Every path flushes alike.
    @inlinable
    public func apply(_ p: Int, _ range: Range<Int>, gradient g: UnsafePointer<Scalar>) {
        guard !range.isEmpty, let w = parameters[p].value else { return }
        let mode = ck_flush_subnormals_begin()
        defer { ck_flush_subnormals_end(mode) }
        let decay = decays[p] ? weightDecay : 0
        let lr = rate
        let state = offsets[p]
        if Scalar.self == Float.self, applyVectorized(w + range.lowerBound, g + range.lowerBound, state + range.lowerBound,
                                                      count: range.count, lr: lr, decay: decay) {
            return
        }
        switch kind {
        case .sgd:
            for i in range { w[i] -= lr * (g[i] + decay * w[i]) }
        case let .momentum(mu):
            let mu = Scalar(mu)
            let v = first.unsafelyUnwrapped + state
            for i in range {
                v[i] = mu * v[i] - lr * (g[i] + decay * w[i])
                w[i] += v[i]
            }
        case .adaGrad:
            let h = second.unsafelyUnwrapped + state
            for i in range {
                let gi = g[i] + decay * w[i]
                h[i] += gi * gi
                w[i] -= lr * gi / (h[i].squareRoot() + Scalar(1e-7))
            }
        case let .rmsProp(rho):
            let rho = Scalar(rho)
            let h = second.unsafelyUnwrapped + state
            for i in range {
                let gi = g[i] + decay * w[i]
                h[i] = rho * h[i] + (1 - rho) * gi * gi
                w[i] -= lr * gi / (h[i].squareRoot() + Scalar(1e-7))
            }
        case let .adam(beta1, beta2):
            let (b1, b2) = (Scalar(beta1), Scalar(beta2))
            let epsilon = Scalar(1e-8)
            let (m, v) = (first.unsafelyUnwrapped + state, second.unsafelyUnwrapped + state)
            for i in range {
                let gi = g[i] + decay * w[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                w[i] -= lr * m[i] / (v[i].squareRoot() + epsilon)
            }
        }
    }

    /// SGD, momentum and Adam on Float parameters through the C kernels, in the widest vectors
    /// the CPU has (Swift compiles for baseline x86-64): the same operations in the same order,
    /// so the same bits as the loops above. False for the other rules, which the loops run.
    @inlinable
    func applyVectorized(
        _ w: UnsafeMutablePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ state: Int, count: Int, lr: Scalar, decay: Scalar
    ) -> Bool {
        let set = Int32(ComputeSettings.instructionSet.rawValue)
        let wf = UnsafeMutableRawPointer(w).assumingMemoryBound(to: Float.self)
        let gf = UnsafeRawPointer(g).assumingMemoryBound(to: Float.self)
        let (lr, decay) = (lr as! Float, decay as! Float)
        @inline(__always) func slot(_ buffer: UnsafeMutablePointer<Scalar>?) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(buffer.unsafelyUnwrapped + state).assumingMemoryBound(to: Float.self)
        }
        switch kind {
        case .sgd:
            ck_ssgd(count, wf, gf, lr, decay, set)
        case let .momentum(mu):
            ck_smomentum(count, wf, gf, slot(first), lr, decay, Float(mu), set)
        case let .adam(beta1, beta2):
            ck_sadam(count, wf, gf, slot(first), slot(second), lr, decay, Float(beta1), Float(beta2), 1e-8, set)
        case .adaGrad, .rmsProp:
            return false
        }
        return true
    }
}

