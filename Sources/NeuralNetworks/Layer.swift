import Autodiff

/// One stage of a network (``Sequential``): a function of a batch with the parameters it trains.
public protocol Layer<Scalar>: CustomStringConvertible {
    /// The scalar type.
    associatedtype Scalar: TensorScalar
    /// The output for a batch. `training` switches what differs between training and inference
    /// (``Dropout`` drops only in training).
    func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar>
    /// The trainable parameters, in order, named relative to the layer (`weight`, `bias`).
    var namedParameters: [(name: String, parameter: Variable<Scalar>)] { get }
    /// State saved with the model but not trained (``BatchNorm``'s running statistics), named
    /// relative to the layer; none by default.
    var namedBuffers: [(name: String, buffer: LayerBuffer<Scalar>)] { get }
}

extension Layer {
    /// None.
    public var namedBuffers: [(name: String, buffer: LayerBuffer<Scalar>)] { [] }
}

extension Dense: Layer {
    /// The affine map (the same in training and inference).
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> { self(x) }
    /// `weight`, `bias`.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [("weight", weight), ("bias", bias)] }
    /// `dense 784→10`.
    public var description: String { "dense \(weight.shape[0])→\(weight.shape[1])" }
}

/// An ``Activation`` as a layer of ``Sequential`` (after a ``Dense`` layer, Sequential fuses
/// the two into one op where the engine has the fused form).
public struct ActivationLayer<Scalar: TensorScalar>: Layer {
    /// The nonlinearity.
    public let activation: Activation

    /// The layer applying `activation`.
    public init(_ activation: Activation) { self.activation = activation }

    /// The activation of every element (the same in training and inference).
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> { activation(x) }
    /// None.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [] }
    /// The activation's name (`relu`).
    public var description: String { activation.description }
}
