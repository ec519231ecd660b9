import Autodiff
import Testing

/// Convolution and pooling values against direct loops written from the definitions (the
/// gradients are checked with every other op outside the rule table, in SecondOrderOpTests).
@Suite("Convolution and pooling")
struct ConvolutionTests {
    /// y[n, o, i, j] = b[o] + Σ w[o, c, kh, kw]·x[n, g·Cg + c, i·s - p + kh·d, j·s - p + kw·d], by loops.
    static func directConvolution(
        _ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>?, stride: (Int, Int), padding: (Int, Int),
        dilation: (Int, Int), groups: Int
    ) -> Tensor<Double> {
        let (n, c, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (width + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        let (xs, ws) = (x.scalars, w.scalars)
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for image in 0..<n { for out in 0..<o { for i in 0..<oh { for j in 0..<ow {
            let group = out / (o / groups)
            var total = b?.scalars[out] ?? 0
            for ci in 0..<cg { for a in 0..<kh { for e in 0..<kw {
                let (row, column) = (i * stride.0 - padding.0 + a * dilation.0, j * stride.1 - padding.1 + e * dilation.1)
                guard row >= 0, row < h, column >= 0, column < width else { continue }
                total += ws[((out * cg + ci) * kh + a) * kw + e] * xs[((image * c + group * cg + ci) * h + row) * width + column]
            } } }
            y[((image * o + out) * oh + i) * ow + j] = total
        } } } }
        _ = c
        return Tensor(shape: [n, o, oh, ow], scalars: y)
    }

    @Test("conv2d equals the direct sum: odd sizes, stride, padding, dilation, groups, 1×1 and whole-input kernels, batch 1",
          arguments: [
              ([2, 3, 5, 4], [4, 3, 3, 2], true, (1, 1), (0, 0), (1, 1), 1),
              ([1, 2, 6, 5], [3, 2, 3, 3], false, (2, 2), (1, 2), (1, 1), 1),
              ([2, 1, 7, 6], [2, 1, 2, 3], false, (1, 2), (0, 0), (2, 2), 1),
              ([1, 4, 4, 4], [6, 2, 2, 2], true, (1, 1), (1, 0), (1, 1), 2),
              ([2, 3, 3, 3], [5, 3, 1, 1], false, (1, 1), (0, 0), (1, 1), 1),
              ([2, 2, 3, 4], [3, 2, 3, 4], true, (1, 1), (0, 0), (1, 1), 1),
              ([1, 6, 9, 8], [6, 1, 3, 3], true, (3, 2), (2, 1), (1, 2), 6),
              // A large unfolded image: 648 taps × 3136 positions.
              ([3, 8, 64, 64], [4, 8, 9, 9], true, (1, 1), (0, 0), (1, 1), 1),
          ] as [([Int], [Int], Bool, (Int, Int), (Int, Int), (Int, Int), Int)])
    func convolutionValues(
        _ inputShape: [Int], _ weightShape: [Int], _ withBias: Bool, _ stride: (Int, Int), _ padding: (Int, Int),
        _ dilation: (Int, Int), _ groups: Int
    ) {
        let x = randomTensor(inputShape, seed: 1), w = randomTensor(weightShape, seed: 2)
        let b: Tensor<Double>? = withBias ? randomTensor([weightShape[0]], seed: 3) : nil
        let tape = Tape<Double>()
        let y = conv2d(tape.constant(x), weight: tape.constant(w), bias: b.map { tape.constant($0) }, stride: stride,
                       padding: padding, dilation: dilation, groups: groups).value
        let expected = Self.directConvolution(x, w, b, stride: stride, padding: padding, dilation: dilation, groups: groups)
        #expect(y.shape == expected.shape)
        #expect(y.maxAbsoluteDifference(expected) < 1e-12, "conv2d differs from the direct sum by \(y.maxAbsoluteDifference(expected))")
    }

    @Test("conv2d gradients against finite differences with stride, padding, dilation and groups together")
    func convolutionGradients() {
        expectGradients(at: [randomTensor([1, 6, 9, 8], seed: 4), randomTensor([6, 1, 3, 3], seed: 5), randomTensor([6], seed: 6)]) {
            _, v in (conv2d(v[0], weight: v[1], bias: v[2], stride: (3, 2), padding: (2, 1), dilation: (1, 2), groups: 6) * 0.5).sum()
        }
    }

    @Test("a batch's gradients equal those of its images one at a time")
    func chunkedGradients() {
        let x = randomTensor([3, 8, 64, 64], seed: 7), w = randomTensor([4, 8, 9, 9], seed: 8), b = randomTensor([4], seed: 9)
        let r = randomTensor([3, 4, 56, 56], seed: 10)
        let whole = gradient(at: [x, w, b]) { (conv2d($0[0], weight: $0[1], bias: $0[2]) * r).sum() }
        var byImage: [Tensor<Double>] = [.zeros(w.shape), .zeros(b.shape)]
        var inputGradients: [Double] = []
        for image in 0..<3 {
            let xi = Tensor(shape: [1, 8, 64, 64], scalars: Array(x.scalars[(image * 32768)..<((image + 1) * 32768)]))
            let ri = Tensor(shape: [1, 4, 56, 56], scalars: Array(r.scalars[(image * 12544)..<((image + 1) * 12544)]))
            let part = gradient(at: [xi, w, b]) { (conv2d($0[0], weight: $0[1], bias: $0[2]) * ri).sum() }
            inputGradients += part[0].scalars
            byImage = [byImage[0] + part[1], byImage[1] + part[2]]
        }
        #expect(whole[0].maxAbsoluteDifference(Tensor(shape: x.shape, scalars: inputGradients)) < 1e-10)
        #expect(whole[1].maxAbsoluteDifference(byImage[0]) < 1e-9 && whole[2].maxAbsoluteDifference(byImage[1]) < 1e-9)
    }

    @Test("max and average pooling equal their windows worked by hand")
    func poolingByHand() {
        let tape = Tape<Double>()
        let x = tape.constant(Tensor(shape: [1, 1, 3, 4], scalars: [1, 5, 2, 0, 3, 4, 8, 7, 6, 9, -1, .nan]))
        #expect(x.maxPool2d(kernel: (2, 2)).value.scalars == [5, 8])
        #expect(x.avgPool2d(kernel: (2, 2)).value.scalars == [13.0 / 4, 17.0 / 4])
        // Padding never wins a maximum and counts as 0 in an average; a NaN window is NaN.
        let padded = x.maxPool2d(kernel: (2, 2), stride: (2, 2), padding: (1, 1)).value.scalars
        #expect(padded[0] == 1 && padded[1] == 5 && padded[2] == 0 && padded[5].isNaN, "\(padded)")
        #expect(x.avgPool2d(kernel: (2, 2), stride: (2, 2), padding: (1, 1)).value.scalars[0] == 0.25)
        // Ties send the gradient to the first maximum; overlapping windows add up.
        let g = gradient(at: Tensor(shape: [1, 1, 2, 3], scalars: [2, 2, 1, 0, 2, 1])) {
            $0.maxPool2d(kernel: (2, 2), stride: (1, 1)).sum()
        }
        #expect(g.scalars == [1, 1, 0, 0, 0, 0], "\(g)")
    }

    @Test("shape mistakes stop with the op and both shapes")
    func shapeMessages() {
        let tape = Tape<Double>()
        let x = tape.constant(.zeros([1, 3, 5, 5]))
        _ = x
        // The messages are checked as exit tests in MisuseTests; here, that the sizes come out right.
        let y = conv2d(tape.constant(.zeros([2, 4, 28, 28])), weight: tape.constant(.zeros([8, 4, 5, 5])), stride: (2, 2), padding: (2, 2))
        #expect(y.shape == [2, 8, 14, 14])
        #expect(tape.constant(.zeros([2, 8, 14, 14])).maxPool2d(kernel: (2, 2)).shape == [2, 8, 7, 7])
    }
}
