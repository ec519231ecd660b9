import Autodiff
import Foundation

/// How a weight matrix `[fanIn, fanOut]` starts.
public enum Initializer: Sendable, Equatable, CustomStringConvertible {
    /// All zeros (fine for biases and logistic regression; a deeper net stays symmetric).
    case zeros
    /// N(0, σ²), e.g. the tutorials' σ = 0.01.
    case normal(standardDeviation: Double)
    /// Xavier/Glorot: N(0, 2/(fanIn + fanOut)), keeps the variance of tanh/sigmoid layers.
    case xavier
    /// He/Kaiming: N(0, 2/fanIn), keeps the variance of ReLU layers.
    case he

    /// Parses `zeros`, `normal` (σ 0.01) or `normal:0.1`, `xavier` / `glorot`, `he` / `kaiming`.
    public init?(name: String) {
        let parts = name.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first {
        case "zeros" where parts.count == 1: self = .zeros
        case "xavier" where parts.count == 1, "glorot" where parts.count == 1: self = .xavier
        case "he" where parts.count == 1, "kaiming" where parts.count == 1: self = .he
        case "normal":
            guard let sigma = parts.count == 2 ? Double(parts[1]) : 0.01, sigma.isFinite, sigma >= 0 else { return nil }
            self = .normal(standardDeviation: sigma)
        default: return nil
        }
    }

    /// The name that ``init(name:)`` parses back.
    public var description: String {
        switch self {
        case .zeros: "zeros"
        case let .normal(sigma): "normal:\(sigma)"
        case .xavier: "xavier"
        case .he: "he"
        }
    }

    /// A weight matrix of shape `[fanIn, fanOut]`.
    public func weights<S: TensorScalar>(fanIn: Int, fanOut: Int, using generator: inout SeededGenerator) -> Tensor<S> {
        weights(shape: [fanIn, fanOut], fanIn: fanIn, fanOut: fanOut, using: &generator)
    }

    /// Weights of any `shape` whose variance follows `fanIn` and `fanOut` (a convolution's
    /// `[out, in, KH, KW]` has fan-in in·KH·KW and fan-out out·KH·KW).
    public func weights<S: TensorScalar>(shape: [Int], fanIn: Int, fanOut: Int, using generator: inout SeededGenerator) -> Tensor<S> {
        switch self {
        case .zeros: return .zeros(shape)
        case let .normal(sigma): return .randomNormal(shape, standardDeviation: S(sigma), using: &generator)
        case .xavier: return .randomNormal(shape, standardDeviation: S((2 / Double(fanIn + fanOut)).squareRoot()), using: &generator)
        case .he: return .randomNormal(shape, standardDeviation: S((2 / Double(max(fanIn, 1))).squareRoot()), using: &generator)
        }
    }
}
