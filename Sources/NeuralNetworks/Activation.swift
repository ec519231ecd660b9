import Autodiff

/// The nonlinearity between layers.
public enum Activation: Sendable, Equatable, CustomStringConvertible {
    /// max(x, 0).
    case relu
    /// 1/(1+e^-x).
    case sigmoid
    /// tanh x.
    case tanh
    /// x for x > 0, else alpha·x.
    case leakyRelu(alpha: Double)
    /// x (no nonlinearity).
    case identity

    /// Parses `relu`, `sigmoid`, `tanh`, `leaky-relu` / `leakyRelu` (alpha 0.01) or
    /// `leaky-relu:0.2` (alpha in [0, 1]), `identity`.
    public init?(name: String) {
        let parts = name.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first {
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "identity", "linear": self = .identity
        case "leaky-relu", "leakyrelu", "leaky_relu":
            guard let alpha = parts.count == 2 ? Double(parts[1]) : 0.01, (0...1).contains(alpha) else { return nil }
            self = .leakyRelu(alpha: alpha)
        default: return nil
        }
        if parts.count == 2, case .leakyRelu = self {} else if parts.count == 2 { return nil }
    }

    /// The name that ``init(name:)`` parses back.
    public var description: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case let .leakyRelu(alpha): "leaky-relu:\(alpha)"
        case .identity: "identity"
        }
    }

    /// The engine's fused form (with `linear`), for the activations that have one.
    @inlinable
    public var fused: FusedActivation? {
        switch self {
        case .relu: .relu
        case .sigmoid: .sigmoid
        case .tanh: .tanh
        case .leakyRelu, .identity: nil
        }
    }

    /// The activation applied to a variable.
    @inlinable
    public func callAsFunction<S>(_ x: Variable<S>) -> Variable<S> {
        switch self {
        case .relu: Autodiff.relu(x)
        case .sigmoid: Autodiff.sigmoid(x)
        case .tanh: Autodiff.tanh(x)
        case let .leakyRelu(alpha): Autodiff.leakyRelu(x, alpha: S(alpha))
        case .identity: x
        }
    }
}
