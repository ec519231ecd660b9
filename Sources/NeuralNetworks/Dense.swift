import Foundation
import Autodiff

/// A fully connected layer `y = x·W + b`: `x` is `[batch, inputs]`, `W` is `[inputs, outputs]`,
/// `b` is `[outputs]`. Its parameters live on the tape it was made on.
public struct Dense<Scalar: TensorScalar> {
    /// `[inputs, outputs]`.
    public let weight: Variable<Scalar>
    /// `[outputs]`, starting at zero.
    public let bias: Variable<Scalar>

    /// A layer with weights from `initializer` and zero bias, as parameters on `tape`.
    public init(inputs: Int, outputs: Int, initializer: Initializer, on tape: Tape<Scalar>,
                using generator: inout SeededGenerator) {
        weight = tape.parameter(initializer.weights(fanIn: inputs, fanOut: outputs, using: &generator))
        bias = tape.parameter(.zeros([outputs]))
    }

    /// The affine map, through the fused `linear` op.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        linear(x, weight: weight, bias: bias)
    }

    /// `activation(x·W + b)`: one fused op for ReLU, sigmoid and tanh (no tape entry for the
    /// pre-activation, one pass for the bias and the activation), the affine map then the
    /// activation otherwise.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, then activation: Activation) -> Variable<Scalar> {
        if let fused = activation.fused { return linear(x, weight: weight, bias: bias, activation: fused) }
        return activation(linear(x, weight: weight, bias: bias))
    }
}

/// A multilayer perceptron: Dense layers with an activation between them and none after the
/// last, which therefore returns logits.
public struct MLP<Scalar: TensorScalar> {
    /// The layers, input first.
    public let layers: [Dense<Scalar>]
    /// The activation after each layer but the last, one per hidden layer.
    public let activations: [Activation]
    /// Layer widths, input and output included (e.g. [784, 256, 128, 10]).
    public let sizes: [Int]

    /// Why an MLP of `sizes` cannot be built here, or nil: fewer than two widths, a width that
    /// is not positive, or more parameters than this machine's memory holds (each parameter
    /// takes a value, a gradient and up to two optimizer moments).
    public static func problem(withSizes sizes: [Int]) -> String? {
        let described = sizes.map(String.init).joined(separator: "-")
        guard sizes.count >= 2 else { return "sizes \(described) need at least an input and an output width" }
        guard sizes.allSatisfy({ $0 > 0 }) else { return "sizes \(described) have a width that is not positive" }
        var parameters = 0
        for (inputs, outputs) in zip(sizes, sizes.dropFirst()) {
            let (weights, o1) = inputs.multipliedReportingOverflow(by: outputs)
            let (layer, o2) = weights.addingReportingOverflow(outputs)
            let (total, o3) = parameters.addingReportingOverflow(layer)
            if o1 || o2 || o3 { return "sizes \(described) have more parameters than Int.max" }
            parameters = total
        }
        let bytesPerParameter = 4 * MemoryLayout<Scalar>.size
        let memory = ProcessInfo.processInfo.physicalMemory
        guard UInt64(parameters) <= memory / UInt64(bytesPerParameter) else {
            return "sizes \(described) have \(parameters) parameters, more than this machine's \(memory / (1 << 20)) MiB of memory holds"
        }
        return nil
    }

    /// An MLP with `sizes` (at least input and output) whose parameters live on `tape`, with
    /// the same `activation` after every hidden layer.
    /// - Precondition: ``problem(withSizes:)`` is nil.
    public init(sizes: [Int], activation: Activation, initializer: Initializer, on tape: Tape<Scalar>, seed: UInt64) {
        self.init(sizes: sizes, activations: Array(repeating: activation, count: max(sizes.count - 2, 0)),
                  initializer: initializer, on: tape, seed: seed)
    }

    /// An MLP with `sizes` whose hidden layers have one activation each (`relu` then `tanh`, say).
    /// - Precondition: ``problem(withSizes:)`` is nil; one activation per hidden layer.
    public init(sizes: [Int], activations: [Activation], initializer: Initializer, on tape: Tape<Scalar>, seed: UInt64) {
        if let problem = Self.problem(withSizes: sizes) { Failure.stop("MLP: \(problem)") }
        Failure.check(activations.count == sizes.count - 2,
                      "MLP: \(activations.count) activations for \(sizes.count - 2) hidden layers (sizes \(sizes))")
        var generator = SeededGenerator(seed: seed)
        layers = zip(sizes, sizes.dropFirst()).map { inputs, outputs in
            Dense(inputs: inputs, outputs: outputs, initializer: initializer, on: tape, using: &generator)
        }
        self.activations = activations
        self.sizes = sizes
        parameters = layers.flatMap { [$0.weight, $0.bias] }
    }

    /// The logits for a batch `[batch, sizes.first]` → `[batch, sizes.last]`.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = i < layers.count - 1 ? layer(h, then: activations[i]) : layer(h)
        }
        return h
    }

    /// Every parameter in order: weight then bias of each layer (worked out once: the trainer
    /// reads them every step, and a step allocates nothing).
    public let parameters: [Variable<Scalar>]

    /// Parameters with the names checkpoints use: `layers.0.weight`, `layers.0.bias`, ….
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] {
        layers.enumerated().flatMap { i, layer in
            [("layers.\(i).weight", layer.weight), ("layers.\(i).bias", layer.bias)]
        }
    }
}
