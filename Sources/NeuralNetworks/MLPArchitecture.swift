/// The layer widths and activation of an ``MLP``, as a checkpoint's `__metadata__` records them
/// (`"sizes": "784,256,128,10"`, `"activation": "relu"`).
public struct MLPArchitecture: Equatable, Sendable {
    /// Layer widths, input and output included.
    public var sizes: [Int]
    /// The activation between layers.
    public var activation: Activation

    /// An architecture. - Precondition: `MLP.problem(withSizes: sizes)` is nil.
    public init(sizes: [Int], activation: Activation) {
        self.sizes = sizes
        self.activation = activation
    }

    /// The metadata a checkpoint of this architecture carries.
    public var metadata: [String: String] {
        ["format": "autodiff-mlp", "sizes": sizes.map(String.init).joined(separator: ","), "activation": activation.description]
    }

    /// The architecture a checkpoint describes, checked before anything is allocated for it:
    /// every width a positive integer (no stray text), parameters that fit in memory, a known
    /// activation, and a tensor of the right shape for every layer.
    public init<S: TensorScalar>(checkpoint contents: CheckpointContents<S>, path: String) throws(CheckpointError) {
        guard let sizesText = contents.metadata["sizes"], let activationName = contents.metadata["activation"] else {
            throw .incompatible(path: path, reason: "the metadata does not describe an MLP (sizes, activation)")
        }
        guard let activation = Activation(name: activationName) else {
            throw .incompatible(path: path, reason: "the metadata's activation '\(activationName)' is unknown (relu, sigmoid, tanh, identity, leaky-relu:alpha with alpha in [0, 1])")
        }
        let parts = sizesText.split(separator: ",", omittingEmptySubsequences: false)
        let sizes = parts.compactMap { Int($0) }
        guard sizes.count == parts.count else {
            throw .incompatible(path: path, reason: "the metadata's sizes '\(sizesText)' are not a list of integers")
        }
        if let problem = MLP<S>.problem(withSizes: sizes) {
            throw .incompatible(path: path, reason: "the metadata's \(problem)")
        }
        for (i, (inputs, outputs)) in zip(sizes, sizes.dropFirst()).enumerated() {
            for (name, shape) in [("layers.\(i).weight", [inputs, outputs]), ("layers.\(i).bias", [outputs])] {
                guard let tensor = contents.tensors[name] else {
                    throw .incompatible(path: path, reason: "the metadata's sizes \(sizesText) need a tensor '\(name)', which the file lacks"
                                        + (contents.unsupported[name].map { " in F32 or F64 (it is \($0))" } ?? ""))
                }
                guard tensor.shape == shape else {
                    throw .incompatible(path: path, reason: "'\(name)' has shape \(tensor.shape), but the metadata's sizes \(sizesText) need \(shape)")
                }
            }
        }
        self.init(sizes: sizes, activation: activation)
    }
}
