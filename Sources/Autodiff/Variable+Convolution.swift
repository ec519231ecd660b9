/// The sizes of a 2-D convolution or pooling over NCHW tensors, checked once from the shapes:
/// the input [N, C, H, W], a kernel KH × KW with its stride, padding and dilation, and the output
/// [N, O, OH, OW] with OH = (H + 2·padding - dilation·(KH - 1) - 1) / stride + 1 (as PyTorch).
@usableFromInline
struct ConvolutionGeometry: Sendable {
    @usableFromInline let batch, channels, height, width: Int
    @usableFromInline let kernelHeight, kernelWidth: Int
    @usableFromInline let strideY, strideX, paddingY, paddingX, dilationY, dilationX: Int
    @usableFromInline let outputHeight, outputWidth: Int

    /// Output positions per channel (OH·OW).
    @inlinable var positions: Int { outputHeight * outputWidth }

    @inlinable
    init(
        op: StaticString, input: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
        dilation: (Int, Int), describeKernel: @autoclosure () -> String
    ) {
        Failure.check(input.count == 4,
                      "\(op): input \(ShapeMath.describe(input)) must be [batch, channels, height, width] (NCHW)")
        Failure.check(stride.0 >= 1 && stride.1 >= 1, "\(op): stride \(stride) must be at least 1")
        Failure.check(dilation.0 >= 1 && dilation.1 >= 1, "\(op): dilation \(dilation) must be at least 1")
        Failure.check(padding.0 >= 0 && padding.1 >= 0, "\(op): padding \(padding) must not be negative")
        Failure.check(kernel.0 >= 1 && kernel.1 >= 1, "\(op): kernel \(describeKernel()) must be at least 1×1")
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (kernelHeight, kernelWidth) = kernel
        (strideY, strideX, paddingY, paddingX, dilationY, dilationX) = (stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1)
        let spanY = dilation.0 * (kernel.0 - 1) + 1, spanX = dilation.1 * (kernel.1 - 1) + 1
        let (paddedY, paddedX) = (height + 2 * padding.0, width + 2 * padding.1)
        Failure.check(spanY <= paddedY && spanX <= paddedX,
                      "\(op): input \(ShapeMath.describe(input)) and kernel \(describeKernel()): the kernel spans \(spanY)×\(spanX), more than the padded input's \(paddedY)×\(paddedX)")
        (outputHeight, outputWidth) = ((paddedY - spanY) / stride.0 + 1, (paddedX - spanX) / stride.1 + 1)
    }

    /// The input row read by output row `oh` at kernel row `kh`, or nil in the padding.
    @inlinable @inline(__always)
    func inputRow(_ oh: Int, _ kh: Int) -> Int? {
        let y = oh &* strideY &- paddingY &+ kh &* dilationY
        return y >= 0 && y < height ? y : nil
    }

    /// The output columns whose input column at kernel column `kw` is inside the image: ow in
    /// the returned range reads column ow·strideX - paddingX + kw·dilationX.
    @inlinable @inline(__always)
    func validColumns(_ kw: Int) -> Range<Int> {
        let offset = kw &* dilationX &- paddingX
        // ow·s + offset ≥ 0 and ≤ width - 1.
        let first = offset >= 0 ? 0 : (-offset + strideX - 1) / strideX
        let last = width - 1 - offset < 0 ? -1 : (width - 1 - offset) / strideX
        let end = Swift.min(outputWidth, last + 1)
        return first < end ? first..<end : 0..<0
    }

    /// Unfolds `channelCount` channels of one image (`x` at the first of them, [channels, H, W])
    /// into `columns`, [channelCount·KH·KW, OH·OW]: row (c, kh, kw) holds what the kernel's tap
    /// (kh, kw) of channel c sees at every output position, 0 in the padding.
    @inlinable
    func unfold<S: TensorScalar>(_ x: UnsafePointer<S>, channelCount: Int, into columns: UnsafeMutablePointer<S>) {
        let p = positions
        var row = columns
        for c in 0..<channelCount {
            let plane = x + c &* height &* width
            for kh in 0..<kernelHeight {
                for kw in 0..<kernelWidth {
                    let valid = validColumns(kw)
                    let offset = kw &* dilationX &- paddingX
                    for oh in 0..<outputHeight {
                        let out = row + oh &* outputWidth
                        guard let y = inputRow(oh, kh), !valid.isEmpty else {
                            out.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let source = plane + (y &* width &+ offset)
                        for ow in 0..<valid.lowerBound { out[ow] = 0 }
                        if strideX == 1 {
                            (out + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
                        } else {
                            for ow in valid { out[ow] = source[ow &* strideX] }
                        }
                        for ow in valid.upperBound..<outputWidth { out[ow] = 0 }
                    }
                    row += p
                }
            }
        }
    }

    /// The adjoint of ``unfold(_:channelCount:into:)``: adds every entry of `columns` to the
    /// input element it was read from (padding entries are dropped).
    @inlinable
    func fold<S: TensorScalar>(_ columns: UnsafePointer<S>, channelCount: Int, into x: UnsafeMutablePointer<S>) {
        let p = positions
        var row = columns
        for c in 0..<channelCount {
            let plane = x + c &* height &* width
            for kh in 0..<kernelHeight {
                for kw in 0..<kernelWidth {
                    let valid = validColumns(kw)
                    let offset = kw &* dilationX &- paddingX
                    for oh in 0..<outputHeight {
                        guard let y = inputRow(oh, kh) else { continue }
                        let target = plane + (y &* width &+ offset)
                        let source = row + oh &* outputWidth
                        for ow in valid { target[ow &* strideX] += source[ow] }
                    }
                    row += p
                }
            }
        }
    }
}

/// 2-D convolution (cross-correlation, as PyTorch's `conv2d`) of `x` [N, C, H, W] with `weight`
/// [O, C/groups, KH, KW], plus `bias` [O] when given: y[n, o, i, j] = b[o] + Σ_{c, kh, kw}
/// w[o, c, kh, kw] · x[n, g·C/groups + c, i·stride - padding + kh·dilation, j·… ] over the
/// input channels of o's group g, with zeros in the padding; y is [N, O, OH, OW], OH = (H +
/// 2·padding - dilation·(KH - 1) - 1)/stride + 1. Computed per image and group as a matrix
/// product of the weights with the unfolded input (im2col) through the GEMM kernels.
/// ∂x = fold(Wᵀ·G), ∂W = Σ_n G·unfold(x)ᵀ, ∂b = Σ_{n, i, j} G.
/// Shapes that do not fit stop with the op and both shapes, in every build.
@inlinable
public func conv2d<S>(
    _ x: Variable<S>, weight: Variable<S>, bias: Variable<S>? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1,
    file: StaticString = #fileID, line: UInt = #line
) -> Variable<S> { x.at(file, line) {
    let (xs, ws) = (x.shape, weight.shape)
    // Built only for a message: a training step makes no strings.
    func shapesText() -> String { "input \(ShapeMath.describe(xs)), weight \(ShapeMath.describe(ws))" }
    Failure.check(ws.count == 4, "conv2d: \(shapesText()): the weight must be [out channels, in channels / groups, KH, KW]")
    let geometry = ConvolutionGeometry(op: "conv2d", input: xs, kernel: (ws[2], ws[3]), stride: stride, padding: padding,
                                       dilation: dilation, describeKernel: "\(ws[2])×\(ws[3]) (\(shapesText()))")
    Failure.check(groups >= 1 && xs[1] % groups == 0 && ws[0] % groups == 0,
                  "conv2d: \(shapesText()): \(groups) groups must divide the \(xs[1]) input and \(ws[0]) output channels")
    Failure.check(ws[1] * groups == xs[1],
                  "conv2d: \(shapesText()): the weight takes \(ws[1]) channels per group, \(groups) group(s) make \(ws[1] * groups), the input has \(xs[1])")
    if let bias {
        Failure.check(bias.shape == [ws[0]], "conv2d: \(shapesText()): bias \(ShapeMath.describe(bias.shape)) must be [\(ws[0])]")
    }
    let (outputs, groupInputs) = (ws[0], ws[1])
    let groupOutputs = outputs / groups
    let taps = groupInputs * geometry.kernelHeight * geometry.kernelWidth  // K of each product
    let p = geometry.positions
    let (n, h, w) = (geometry.batch, geometry.height, geometry.width)
    let shape = [n, outputs, geometry.outputHeight, geometry.outputWidth]
    let hasBias = bias != nil
    return x.tape.record("conv2d", shape: shape, x, weight, bias, forward: { ctx in
        let columns = ctx.scratch(taps * p)
        let (input, kernel, output) = (ctx.a.value, ctx.b.value, ctx.output.value)
        for image in 0..<n {
            for g in 0..<groups {
                geometry.unfold(input + (image * groups + g) * groupInputs * h * w, channelCount: groupInputs, into: columns)
                // y[n, g's outputs] (Og × P) = W_g (Og × K) · columns (K × P).
                MatrixKernels.gemm(m: groupOutputs, n: p, k: taps, a: kernel + g * groupOutputs * taps, rsa: taps, csa: 1,
                                   b: columns, rsb: p, csb: 1, c: output + (image * outputs + g * groupOutputs) * p, ldc: p,
                                   beta: 0, threads: ctx.matrixThreads)
            }
            if hasBias {
                let b = ctx.c.value
                for o in 0..<outputs {
                    let row = output + (image * outputs + o) * p
                    for i in 0..<p { row[i] += b[o] }
                }
            }
        }
    }, pullback: { ctx in
        let g = ctx.output.gradient.unsafelyUnwrapped
        let (input, kernel) = (ctx.a.value, ctx.b.value)
        let gx = ctx.a.gradient, gw = ctx.b.gradient
        let columns = ctx.scratch(taps * p)
        for image in 0..<n {
            for group in 0..<groups {
                let gy = g + (image * outputs + group * groupOutputs) * p
                if let gw {
                    geometry.unfold(input + (image * groups + group) * groupInputs * h * w, channelCount: groupInputs, into: columns)
                    // ∂W_g (Og × K) += G (Og × P) · columnsᵀ (P × K).
                    MatrixKernels.gemm(m: groupOutputs, n: taps, k: p, a: gy, rsa: p, csa: 1, b: columns, rsb: 1, csb: p,
                                       c: gw + group * groupOutputs * taps, ldc: taps, beta: 1, threads: ctx.matrixThreads)
                }
                if let gx {
                    // ∂columns (K × P) = W_gᵀ (K × Og) · G (Og × P), folded back onto the image.
                    MatrixKernels.gemm(m: taps, n: p, k: groupOutputs, a: kernel + group * groupOutputs * taps, rsa: 1, csa: taps,
                                       b: gy, rsb: p, csb: 1, c: columns, ldc: p, beta: 0, threads: ctx.matrixThreads)
                    geometry.fold(columns, channelCount: groupInputs, into: gx + (image * groups + group) * groupInputs * h * w)
                }
            }
        }
        if hasBias, let gb = ctx.c.gradient {
            for image in 0..<n {
                for o in 0..<outputs { gb[o] += Summation.sum(g + (image * outputs + o) * p, count: p) }
            }
        }
    })
} }

/// How a pooling window combines what it covers.
@usableFromInline
enum PoolingKind: Sendable { case maximum, average }

extension Variable {
    /// Max pooling over windows of `kernel` [N, C, H, W] → [N, C, OH, OW] (sizes as
    /// ``conv2d(_:weight:bias:stride:padding:dilation:groups:file:line:)``; the stride defaults to
    /// the kernel, as in PyTorch); the padding never wins. A window holding a NaN gives NaN.
    /// ∂ = G to the first maximal element of each window (NaN to a NaN, as every op gives a NaN
    /// input), summed where windows overlap.
    @inlinable
    public func maxPool2d(
        kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
        file: StaticString = #fileID, line: UInt = #line
    ) -> Variable { at(file, line) {
        pool2d("maxPool2d", .maximum, kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation)
    } }

    /// Average pooling over windows of `kernel` [N, C, H, W] → [N, C, OH, OW], dividing by the
    /// window's full size KH·KW, padding included (PyTorch's default `count_include_pad`); the
    /// stride defaults to the kernel. ∂x = G/(KH·KW) to every element of each window.
    @inlinable
    public func avgPool2d(
        kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
        file: StaticString = #fileID, line: UInt = #line
    ) -> Variable { at(file, line) {
        pool2d("avgPool2d", .average, kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: (1, 1))
    } }

    @inlinable
    func pool2d(
        _ op: StaticString, _ kind: PoolingKind, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
        dilation: (Int, Int)
    ) -> Variable {
        let geometry = ConvolutionGeometry(op: op, input: shape, kernel: kernel, stride: stride, padding: padding,
                                           dilation: dilation, describeKernel: "\(kernel.0)×\(kernel.1)")
        Failure.check(padding.0 * 2 <= kernel.0 && padding.1 * 2 <= kernel.1,
                      "\(op): padding \(padding) must be at most half the kernel \(kernel.0)×\(kernel.1)")
        let planes = geometry.batch * geometry.channels
        let (h, w, p) = (geometry.height, geometry.width, geometry.positions)
        let shape = [geometry.batch, geometry.channels, geometry.outputHeight, geometry.outputWidth]
        let windowSize = Scalar(kernel.0 * kernel.1)
        // No padding and no dilation (the usual 2×2 pooling): every window lies inside the image,
        // so the loops need no bounds checks (the general loop took a fifth of a CNN's step).
        let inside = padding == (0, 0) && dilation == (1, 1)
        return tape.record(op, shape: shape, self, savedInts: kind == .maximum ? planes * p : 0, forward: { ctx in
            let (x, y) = (ctx.a.value, ctx.output.value)
            if inside {
                let (kh, kw, sh, sw, ow) = (kernel.0, kernel.1, stride.0, stride.1, geometry.outputWidth)
                for plane in 0..<planes {
                    let (source, out) = (x + plane &* h &* w, y + plane &* p)
                    let positions = ctx.savedInts + plane &* p
                    for i in 0..<geometry.outputHeight {
                        for j in 0..<ow {
                            let corner = i &* sh &* w &+ j &* sw
                            switch kind {
                            case .maximum where kh == 2 && kw == 2:
                                // The common window, unrolled: three comparisons in a row.
                                var (best, at) = (source[corner], corner)
                                @inline(__always) func consider(_ k: Int) {
                                    let v = source[k]
                                    if !best.isNaN && (v > best || v.isNaN) { (best, at) = (v, k) }
                                }
                                consider(corner &+ 1)
                                consider(corner &+ w)
                                consider(corner &+ w &+ 1)
                                out[i &* ow &+ j] = best
                                positions[i &* ow &+ j] = at
                            case .maximum:
                                var (best, at) = (source[corner], corner)
                                for a in 0..<kh {
                                    for b in 0..<kw where a > 0 || b > 0 {
                                        let k = corner &+ a &* w &+ b
                                        let v = source[k]
                                        if !best.isNaN && (v > best || v.isNaN) { (best, at) = (v, k) }
                                    }
                                }
                                out[i &* ow &+ j] = best
                                positions[i &* ow &+ j] = at
                            case .average:
                                var total = Scalar.zero
                                for a in 0..<kh {
                                    for b in 0..<kw { total += source[corner &+ a &* w &+ b] }
                                }
                                out[i &* ow &+ j] = total / windowSize
                            }
                        }
                    }
                }
                return
            }
            for plane in 0..<planes {
                let (source, out) = (x + plane * h * w, y + plane * p)
                for oh in 0..<geometry.outputHeight {
                    for ow in 0..<geometry.outputWidth {
                        var best = Scalar.zero, at = -1
                        var total = Scalar.zero
                        for kh in 0..<geometry.kernelHeight {
                            guard let row = geometry.inputRow(oh, kh) else { continue }
                            for kw in 0..<geometry.kernelWidth {
                                let column = ow * geometry.strideX - geometry.paddingX + kw * geometry.dilationX
                                guard column >= 0 && column < w else { continue }
                                let v = source[row * w + column]
                                switch kind {
                                case .average: total += v
                                case .maximum:
                                    if at < 0 || (!best.isNaN && (v > best || v.isNaN)) { (best, at) = (v, row * w + column) }
                                }
                            }
                        }
                        let o = oh * geometry.outputWidth + ow
                        switch kind {
                        case .average: out[o] = total / windowSize
                        case .maximum:
                            // A window wholly in the padding (only with dilation) holds -∞ and passes no gradient.
                            out[o] = at < 0 ? -Scalar.infinity : best
                            ctx.savedInts[plane * p + o] = at
                        }
                    }
                }
            }
        }, pullback: { ctx in
            guard let gx = ctx.a.gradient else { return }
            let (x, g) = (ctx.a.value, ctx.output.gradient.unsafelyUnwrapped)
            for plane in 0..<planes {
                let (source, target, gy) = (x + plane * h * w, gx + plane * h * w, g + plane * p)
                switch kind {
                case .maximum:
                    for o in 0..<p {
                        let at = ctx.savedInts[plane * p + o]
                        if at >= 0 { target[at] += source[at].isNaN ? source[at] : gy[o] }
                    }
                case .average:
                    for oh in 0..<geometry.outputHeight {
                        for ow in 0..<geometry.outputWidth {
                            let share = gy[oh * geometry.outputWidth + ow] / windowSize
                            for kh in 0..<geometry.kernelHeight {
                                guard let row = geometry.inputRow(oh, kh) else { continue }
                                for kw in 0..<geometry.kernelWidth {
                                    let column = ow * geometry.strideX - geometry.paddingX + kw
                                    if column >= 0 && column < w { target[row * w + column] += share }
                                }
                            }
                        }
                    }
                }
            }
        })
    }
}
