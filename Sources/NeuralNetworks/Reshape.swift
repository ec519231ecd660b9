import Autodiff

/// Reshapes every sample of a batch, keeping the batch axis: `[N, 784]` → `[N, 1, 28, 28]` with
/// `Reshape([1, 28, 28])`, and back with ``flatten`` (`[N, C, H, W]` → `[N, C·H·W]`). No
/// parameters; the gradient is reshaped back.
public struct Reshape<Scalar: TensorScalar>: Layer {
    /// Each sample's shape; one entry may be -1 (inferred).
    public let sampleShape: [Int]

    /// A layer giving each sample `sampleShape`.
    public init(_ sampleShape: [Int]) { self.sampleShape = sampleShape }

    /// `[N, …]` → `[N, everything else]`.
    public static var flatten: Reshape { Reshape([-1]) }

    /// The batch with each sample reshaped (the same in training and inference).
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool = false) -> Variable<Scalar> {
        x.reshaped(to: [x.shape[0]] + sampleShape)
    }
    /// None.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [] }
    /// `flatten` or `reshape 1×28×28`.
    public var description: String {
        sampleShape == [-1] ? "flatten" : "reshape " + sampleShape.map(String.init).joined(separator: "×")
    }
}
