import Autodiff

/// Inverted dropout (Autodiff's `dropout`) in training, the identity in
/// inference, as PyTorch's `nn.Dropout`. The masks come from the layer's own generator, seeded
/// at creation, so a seed fixes every step's mask; the layer is a reference to that generator,
/// so copies of one layer share it (a model per thread needs a layer per thread).
public struct Dropout<Scalar: TensorScalar>: Layer {
    /// The chance of dropping each element.
    public let probability: Double
    @usableFromInline let generator: GeneratorBox

    /// A layer dropping with `probability` in [0, 1], masks drawn from `seed`.
    public init(probability: Double, seed: UInt64) {
        Failure.check((0...1).contains(probability), "Dropout: probability \(probability) is outside [0, 1]")
        self.probability = probability
        generator = GeneratorBox(SeededGenerator(seed: seed))
    }

    /// `x` with elements dropped and the rest scaled in training; `x` itself in inference.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> {
        training ? dropout(x, probability: probability, using: &generator.value) : x
    }
    /// None.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [] }
    /// `dropout 0.25`.
    public var description: String { "dropout \(probability)" }
}

/// A generator shared by the copies of a layer (a layer's call is not mutating).
@usableFromInline
final class GeneratorBox {
    @usableFromInline var value: SeededGenerator
    init(_ value: SeededGenerator) { self.value = value }
}
