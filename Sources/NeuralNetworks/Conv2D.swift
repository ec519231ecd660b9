import Autodiff
import Foundation

/// A 2-D convolution layer over NCHW batches (Autodiff's `conv2d`):
/// `weight` [outputs, inputs/groups, KH, KW], `bias` [outputs]. As PyTorch's `nn.Conv2d` but for
/// the weights' start: He (N(0, 2/fan-in), fan-in = inputs/groups·KH·KW) by default, for the
/// ReLU networks it is used in; the bias starts as PyTorch's, U(-1/√fan-in, 1/√fan-in).
public struct Conv2D<Scalar: TensorScalar>: Layer {
    /// `[outputs, inputs / groups, KH, KW]`.
    public let weight: Variable<Scalar>
    /// `[outputs]`, or nil for a layer without bias.
    public let bias: Variable<Scalar>?
    /// Step between windows (rows, columns).
    public let stride: (Int, Int)
    /// Zeros added on each side (rows, columns).
    public let padding: (Int, Int)
    /// Spacing of the kernel's taps (rows, columns).
    public let dilation: (Int, Int)
    /// Channel groups (inputs and outputs split into this many independent convolutions).
    public let groups: Int

    /// A layer from `inputs` to `outputs` channels whose parameters live on `tape`.
    /// - Precondition: `groups` divides `inputs` and `outputs`; sizes at least 1.
    public init(
        inputs: Int, outputs: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true, initializer: Initializer = .he,
        on tape: Tape<Scalar>, using generator: inout SeededGenerator
    ) {
        Failure.check(inputs >= 1 && outputs >= 1 && kernel.0 >= 1 && kernel.1 >= 1 && groups >= 1,
                      "Conv2D: \(inputs) inputs, \(outputs) outputs, kernel \(kernel.0)×\(kernel.1), \(groups) groups must all be at least 1")
        Failure.check(inputs % groups == 0 && outputs % groups == 0,
                      "Conv2D: \(groups) groups must divide the \(inputs) input and \(outputs) output channels")
        let fanIn = inputs / groups * kernel.0 * kernel.1
        weight = tape.parameter(initializer.weights(shape: [outputs, inputs / groups, kernel.0, kernel.1], fanIn: fanIn,
                                                    fanOut: outputs / groups * kernel.0 * kernel.1, using: &generator))
        let bound = 1 / Double(fanIn).squareRoot()
        self.bias = bias ? tape.parameter(Tensor(shape: [outputs]) { out in
            for i in out.indices { out[i] = Scalar(-bound + 2 * bound * generator.nextUnitDouble()) }
        }) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// The convolution of a batch `[N, inputs, H, W]` → `[N, outputs, OH, OW]`.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool = false) -> Variable<Scalar> {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// `weight`, then `bias` when there is one.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// `conv2d 1→32 3×3`, with the stride, padding, dilation and groups that are not 1, 0, 1, 1.
    public var description: String {
        let s = weight.shape
        var text = "conv2d \(s[1] * groups)→\(s[0]) \(s[2])×\(s[3])"
        if stride != (1, 1) { text += " stride \(stride.0),\(stride.1)" }
        if padding != (0, 0) { text += " padding \(padding.0),\(padding.1)" }
        if dilation != (1, 1) { text += " dilation \(dilation.0),\(dilation.1)" }
        if groups != 1 { text += " groups \(groups)" }
        return bias == nil ? text + " no-bias" : text
    }
}
