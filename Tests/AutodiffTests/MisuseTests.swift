import Autodiff
import Testing

/// Expects the child process of an exit test to have stopped with a message containing
/// `fragment` (Failure.stop prints in every build; .ci/run runs this suite on a release build too).
func expectMessage(_ result: ExitTest.Result?, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let result else { return }
    let text = String(decoding: result.standardErrorContent, as: UTF8.self)
    #expect(text.contains(fragment), "expected a stop saying '\(fragment)', got: \(text)", sourceLocation: sourceLocation)
}

@Suite("Misuse stops with the op and the shapes")
struct MisuseTests {
    @Test("matrix products, labels, rows and scalars")
    func shapes() async {
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Float>()
            _ = matmul(tape.constant(.zeros([2, 3])), tape.constant(.zeros([4, 5])))
        }, "matmul: [2, 3] × [4, 5]: inner dimensions differ")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tape<Double>().constant(.zeros([3, 2])).gatherRows([0, 5])
        }, "gatherRows: index 5 at position 1 is out of range for 3 rows of [3, 2]")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { _ = Tape<Double>().constant(.zeros([3])).scalar }, "scalar: value of shape [3] has 3 elements")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = softmaxCrossEntropy(logits: Tape<Double>().parameter(.zeros([1, 10])), labels: [12])
        }, "softmaxCrossEntropy: label 12 at row 0 is out of range for 10 classes")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tape<Double>().constant(.zeros([3, 2]))[3]
        }, "subscript: index 3 is out of range for the first axis of [3, 2]")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Double>()
            _ = concatenate([tape.constant(.zeros([3, 4])), tape.constant(.zeros([2, 4]))], alongAxis: 1)
        }, "concatenate: part 1 of shape [2, 4] does not match part 0 of shape [3, 4] off axis 1")
    }

    @Test("convolution and pooling name the op and both shapes")
    func convolutionShapes() async {
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Float>()
            _ = conv2d(tape.constant(.zeros([2, 3, 8, 8])), weight: tape.constant(.zeros([4, 2, 3, 3])))
        }, "conv2d: input [2, 3, 8, 8], weight [4, 2, 3, 3]: the weight takes 2 channels per group, 1 group(s) make 2, the input has 3")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Float>()
            _ = conv2d(tape.constant(.zeros([1, 1, 4, 4])), weight: tape.constant(.zeros([1, 1, 5, 3])))
        }, "conv2d: input [1, 1, 4, 4] and kernel 5×3 (input [1, 1, 4, 4], weight [1, 1, 5, 3]): the kernel spans 5×3, more than the padded input's 4×4")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tape<Float>().constant(.zeros([3, 8, 8])).maxPool2d(kernel: (2, 2))
        }, "maxPool2d: input [3, 8, 8] must be [batch, channels, height, width] (NCHW)")
    }

    @Test("shape arithmetic is checked: overflowing and negative shapes stop")
    func shapeArithmetic() async {
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([1 << 32, 1 << 32])
        }, "Tensor: shape [4294967296, 4294967296] has more elements than Int.max")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(shape: [1 << 62, 4], scalars: [])
        }, "Tensor: shape [4611686018427387904, 4] has more elements than Int.max")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(shape: [-2, -3]) { _ in }
        }, "Tensor: shape [-2, -3] has a negative axis")
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([6]).reshaped(to: [-2, -3])
        }, "reshape: [6] to [-2, -3]: every axis must be ≥ 0, or -1 (inferred) once")
    }

    @Test("backward of a loss with no gradient stops instead of giving zeros")
    func noGradient() async {
        expectMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Double>()
            let w = tape.parameter(Tensor([1.0, 2]))
            let loss = tape.withoutGradients { (w * w).sum() }
            tape.backward(loss)
        }, "backward: the loss does not depend on any trainable variable")
    }
}
