/// The layer widths and activation of an ``MLP``, as a checkpoint's `__metadata__` records them
/// (`"sizes": "784,256,128,10"`, `"activation": "relu"`).
public struct MLPArchitecture: Equatable, Sendable {
    /// Layer widths, input and output included.
    public var sizes: [Int]
    /// The activation after each hidden layer.
    public var activations: [Activation]

    /// An architecture with one activation for every hidden layer.
    /// - Precondition: `MLP.problem(withSizes: sizes)` is nil.
    public init(sizes: [Int], activation: Activation) {
        self.init(sizes: sizes, activations: Array(repeating: activation, count: max(sizes.count - 2, 0)))
    }

    /// An architecture with an activation per hidden layer.
    public init(sizes: [Int], activations: [Activation]) {
        self.sizes = sizes
        self.activations = activations
    }

    /// `relu`, or `relu,tanh` when the layers differ: the form of the metadata and of `--activation`.
    public var activationsDescription: String {
        Set(activations.map(\.description)).count <= 1 ? (activations.first?.description ?? "identity")
            : activations.map(\.description).joined(separator: ",")
    }

    /// Activations from `relu` (every hidden layer) or `relu,tanh` (one per hidden layer), or nil
    /// when a name is unknown or the count does not match.
    public static func activations(parsing text: String, hiddenLayers: Int) -> [Activation]? {
        let parsed = text.split(separator: ",").map { Activation(name: String($0)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { return nil }
        let list = parsed.map { $0! }
        if list.count == 1 { return Array(repeating: list[0], count: hiddenLayers) }
        return list.count == hiddenLayers ? list : nil
    }

    /// The metadata a checkpoint of this architecture carries.
    public var metadata: [String: String] {
        ["format": "autodiff-mlp", "sizes": sizes.map(String.init).joined(separator: ","), "activation": activationsDescription]
    }

    /// The architecture a checkpoint describes, checked before anything is allocated for it:
    /// every width a positive integer (no stray text), parameters that fit in memory, a known
    /// activation, a tensor of the right shape for every layer, and no tensor that belongs to
    /// none of them (as a weight or as optimizer state).
    public init<S: TensorScalar>(checkpoint contents: CheckpointContents<S>, path: String) throws(CheckpointError) {
        guard let sizesText = contents.metadata["sizes"], let activationName = contents.metadata["activation"] else {
            throw .incompatible(path: path, reason: "the metadata does not describe an MLP (sizes, activation)")
        }
        let parts = sizesText.split(separator: ",", omittingEmptySubsequences: false)
        let sizes = parts.compactMap { Int($0) }
        guard sizes.count == parts.count else {
            throw .incompatible(path: path, reason: "the metadata's sizes '\(sizesText)' are not a list of integers")
        }
        if let problem = MLP<S>.problem(withSizes: sizes) {
            throw .incompatible(path: path, reason: "the metadata's \(problem)")
        }
        guard let activations = Self.activations(parsing: activationName, hiddenLayers: sizes.count - 2) else {
            throw .incompatible(path: path, reason: "the metadata's activation '\(activationName)' is unknown or not one per hidden layer (relu, sigmoid, tanh, identity, leaky-relu:alpha with alpha in [0, 1])")
        }
        let expected = zip(sizes, sizes.dropFirst()).enumerated().flatMap { i, layer in
            [("layers.\(i).weight", [layer.0, layer.1]), ("layers.\(i).bias", [layer.1])]
        }
        try Checkpoint.checkTensors(contents, expected: expected, source: "the metadata's sizes \(sizesText)", path: path)
        self.init(sizes: sizes, activations: activations)
    }
}
