import Autodiff
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
    @usableFromInline var first: [[Scalar]]
    @usableFromInline var second: [[Scalar]]
    @usableFromInline var decays: [Bool]
    @usableFromInline var steps = 0

    /// State for `parameters` (their count and shapes must not change afterwards).
    public init(kind: OptimizerKind, parameters: [Variable<Scalar>], weightDecay: Scalar = 0) {
        self.kind = kind
        self.weightDecay = weightDecay
        let counts = parameters.map { $0.shape.reduce(1, *) }
        let needsFirst: Bool
        let needsSecond: Bool
        switch kind {
        case .sgd: (needsFirst, needsSecond) = (false, false)
        case .momentum: (needsFirst, needsSecond) = (true, false)
        case .adaGrad, .rmsProp: (needsFirst, needsSecond) = (false, true)
        case .adam: (needsFirst, needsSecond) = (true, true)
        }
        first = counts.map { needsFirst ? [Scalar](repeating: 0, count: $0) : [] }
        second = counts.map { needsSecond ? [Scalar](repeating: 0, count: $0) : [] }
        decays = parameters.map { $0.shape.count >= 2 }
    }

    /// The number of steps taken (Adam's bias correction depends on it).
    public var stepCount: Int { steps }

    /// The optimizer's state as named tensors, for a checkpoint: `optimizer.first.NAME` and
    /// `optimizer.second.NAME` (the moments or accumulators this rule keeps) for the parameters
    /// `names` (in the order the optimizer was made for), and its step count and rule as metadata.
    public func state(names: [String], shapes: [[Int]]) -> (tensors: [(name: String, tensor: Tensor<Scalar>)], metadata: [String: String]) {
        var tensors: [(name: String, tensor: Tensor<Scalar>)] = []
        for (p, name) in names.enumerated() {
            if !first[p].isEmpty { tensors.append(("optimizer.first.\(name)", Tensor(shape: shapes[p], scalars: first[p]))) }
            if !second[p].isEmpty { tensors.append(("optimizer.second.\(name)", Tensor(shape: shapes[p], scalars: second[p]))) }
        }
        return (tensors, ["optimizer": "\(kind)", "optimizer.steps": "\(steps)"])
    }

    /// Restores ``state(names:shapes:)`` from a checkpoint so training resumes where it stopped;
    /// false (and nothing changed) when the checkpoint holds no state for this rule or its
    /// tensors do not fit.
    public mutating func restore(_ contents: CheckpointContents<Scalar>, names: [String]) -> Bool {
        guard contents.metadata["optimizer"] == "\(kind)", let saved = contents.metadata["optimizer.steps"].flatMap(Int.init), saved >= 0
        else { return false }
        var (newFirst, newSecond) = (first, second)
        for (p, name) in names.enumerated() {
            for (buffer, key) in [(0, "first"), (1, "second")] where !(buffer == 0 ? first[p] : second[p]).isEmpty {
                guard let tensor = contents.tensors["optimizer.\(key).\(name)"], tensor.count == (buffer == 0 ? first[p] : second[p]).count,
                      tensor.scalars.allSatisfy(\.isFinite) else { return false }
                if buffer == 0 { newFirst[p] = tensor.scalars } else { newSecond[p] = tensor.scalars }
            }
        }
        (first, second, steps) = (newFirst, newSecond, saved)
        return true
    }

    /// One update of every parameter.
    @inlinable
    public mutating func step(_ parameters: [Variable<Scalar>], learningRate lr: Scalar) {
        Failure.check(parameters.count == first.count, "optimizer: made for \(first.count) parameters, given \(parameters.count)")
        steps += 1
        let epsilon: Scalar = Scalar(1e-8)
        for (p, parameter) in parameters.enumerated() {
            let decay = decays[p] ? weightDecay : 0
            parameter.tape.update(parameter) { w, g in
                switch kind {
                case .sgd:
                    for i in 0..<w.count { w[i] -= lr * (g[i] + decay * w[i]) }
                case let .momentum(mu):
                    let mu = Scalar(mu)
                    first[p].withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            v[i] = mu * v[i] - lr * (g[i] + decay * w[i])
                            w[i] += v[i]
                        }
                    }
                case .adaGrad:
                    second[p].withUnsafeMutableBufferPointer { h in
                        for i in 0..<w.count {
                            let gi = g[i] + decay * w[i]
                            h[i] += gi * gi
                            w[i] -= lr * gi / (h[i].squareRoot() + Scalar(1e-7))
                        }
                    }
                case let .rmsProp(rho):
                    let rho = Scalar(rho)
                    second[p].withUnsafeMutableBufferPointer { h in
                        for i in 0..<w.count {
                            let gi = g[i] + decay * w[i]
                            h[i] = rho * h[i] + (1 - rho) * gi * gi
                            w[i] -= lr * gi / (h[i].squareRoot() + Scalar(1e-7))
                        }
                    }
                case let .adam(beta1, beta2):
                    let (b1, b2) = (Scalar(beta1), Scalar(beta2))
                    // Bias correction folded into the step size.
                    let correction = Scalar((1 - pow(beta2, Double(steps))).squareRoot() / (1 - pow(beta1, Double(steps))))
                    let rate = lr * correction
                    first[p].withUnsafeMutableBufferPointer { m in
                        second[p].withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                let gi = g[i] + decay * w[i]
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                w[i] -= rate * m[i] / (v[i].squareRoot() + epsilon)
                            }
                        }
                    }
                }
            }
        }
    }
}

