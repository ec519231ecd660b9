import Autodiff

/// Layers applied one after another: any stack of ``Layer``s (convolutions, pooling, dense
/// layers, activations, dropout, reshapes) as one ``ClassifierModel``. A ``Dense`` layer
/// followed by a ReLU, sigmoid or tanh ``ActivationLayer`` runs as one fused op.
///
/// Parameters are named for checkpoints by the layer's position among the layers that have
/// parameters: `layers.0.weight`, `layers.0.bias`, `layers.1.weight`, … — for an MLP these are
/// the names ``MLP`` writes.
public struct Sequential<Scalar: TensorScalar>: ClassifierModel, CustomStringConvertible {
    /// The layers, input first.
    public let layers: [any Layer<Scalar>]

    /// Parameters named `layers.K.NAME`, K counting the layers that have parameters (worked out
    /// once: the trainer reads them every step).
    public let namedParameters: [(name: String, parameter: Variable<Scalar>)]
    /// Every parameter in order.
    public let parameters: [Variable<Scalar>]
    /// The layers' buffers (``BatchNorm``'s running statistics), named as the parameters:
    /// `layers.K.running_mean`, K counting the layers that have parameters.
    public let namedBuffers: [(name: String, buffer: LayerBuffer<Scalar>)]

    /// A model of `layers`.
    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
        namedParameters = layers.filter { !$0.namedParameters.isEmpty }.enumerated().flatMap { k, layer in
            layer.namedParameters.map { ("layers.\(k).\($0.name)", $0.parameter) }
        }
        parameters = namedParameters.map(\.parameter)
        namedBuffers = layers.filter { !$0.namedParameters.isEmpty }.enumerated().flatMap { k, layer in
            layer.namedBuffers.map { ("layers.\(k).\($0.name)", $0.buffer) }
        }
    }

    /// The MLP's layers with its activations between them: the same parameters (not copies),
    /// the same ops and the same checkpoint names.
    public init(_ mlp: MLP<Scalar>) {
        var layers: [any Layer<Scalar>] = []
        for (i, layer) in mlp.layers.enumerated() {
            layers.append(layer)
            if i < mlp.activations.count { layers.append(ActivationLayer<Scalar>(mlp.activations[i])) }
        }
        self.init(layers)
    }

    /// What a checkpoint of the model holds, by name: the parameters' values, then the buffers.
    public var namedTensors: [(name: String, tensor: Tensor<Scalar>)] {
        namedParameters.map { ($0.name, $0.parameter.value) } + namedBuffers.map { ($0.name, $0.buffer.value) }
    }

    /// The layers' buffers, in order.
    public var buffers: [LayerBuffer<Scalar>] { namedBuffers.map(\.buffer) }

    /// The output in inference mode.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> { self(x, training: false) }

    /// The output in training or inference mode.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> {
        var h = x
        var i = 0
        while i < layers.count {
            if let dense = layers[i] as? Dense<Scalar>, i + 1 < layers.count,
               let activation = layers[i + 1] as? ActivationLayer<Scalar>, activation.activation.fused != nil {
                h = dense(h, then: activation.activation)
                i += 2
                continue
            }
            h = Self.apply(layers[i], h, training: training)
            i += 1
        }
        return h
    }

    /// One layer on `x`. The built-in layers are called through their concrete types: through
    /// the existential their ops would run as unspecialized generic code (the example CNN
    /// trained at 98 samples/s that way). Layers of other types are called as they are.
    @inlinable
    static func apply(_ layer: any Layer<Scalar>, _ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> {
        if let conv = layer as? Conv2D<Scalar> { return conv(x, training: training) }
        if let activation = layer as? ActivationLayer<Scalar> { return activation(x, training: training) }
        if let pool = layer as? MaxPool2D<Scalar> { return pool(x, training: training) }
        if let pool = layer as? AvgPool2D<Scalar> { return pool(x, training: training) }
        if let reshape = layer as? Reshape<Scalar> { return reshape(x, training: training) }
        if let dropout = layer as? Dropout<Scalar> { return dropout(x, training: training) }
        if let dense = layer as? Dense<Scalar> { return dense(x) }
        if let norm = layer as? BatchNorm<Scalar> { return norm(x, training: training) }
        return layer(x, training: training)
    }

    /// The layers, one per line.
    public var description: String { layers.map(\.description).joined(separator: "\n") }
}
