import Autodiff

/// Max pooling over NCHW batches (`Variable.maxPool2d`);
/// the stride defaults to the kernel, as in PyTorch's `nn.MaxPool2d`.
public struct MaxPool2D<Scalar: TensorScalar>: Layer {
    /// Window size (rows, columns).
    public let kernel: (Int, Int)
    /// Step between windows.
    public let stride: (Int, Int)
    /// Padding on each side (never the maximum).
    public let padding: (Int, Int)

    /// A pooling layer; `stride` nil means the kernel's size.
    public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
    }

    /// The pooled batch `[N, C, OH, OW]` (the same in training and inference).
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool = false) -> Variable<Scalar> {
        x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
    }
    /// None.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [] }
    /// `maxpool 2×2`.
    public var description: String { poolingDescription("maxpool", kernel, stride, padding) }
}

/// Average pooling over NCHW batches (`Variable.avgPool2d`),
/// dividing by the window's full size as PyTorch's `nn.AvgPool2d` does by default.
public struct AvgPool2D<Scalar: TensorScalar>: Layer {
    /// Window size (rows, columns).
    public let kernel: (Int, Int)
    /// Step between windows.
    public let stride: (Int, Int)
    /// Zero padding on each side (counted in the average).
    public let padding: (Int, Int)

    /// A pooling layer; `stride` nil means the kernel's size.
    public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
    }

    /// The pooled batch `[N, C, OH, OW]` (the same in training and inference).
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool = false) -> Variable<Scalar> {
        x.avgPool2d(kernel: kernel, stride: stride, padding: padding)
    }
    /// None.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [] }
    /// `avgpool 2×2`.
    public var description: String { poolingDescription("avgpool", kernel, stride, padding) }
}

func poolingDescription(_ name: String, _ kernel: (Int, Int), _ stride: (Int, Int), _ padding: (Int, Int)) -> String {
    var text = "\(name) \(kernel.0)×\(kernel.1)"
    if stride != kernel { text += " stride \(stride.0),\(stride.1)" }
    if padding != (0, 0) { text += " padding \(padding.0),\(padding.1)" }
    return text
}
