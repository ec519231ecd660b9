import Autodiff

/// State of a layer that is saved with the model but not trained (``BatchNorm``'s running
/// statistics): a reference, so that a layer's call can update it and a checkpoint replace it.
public final class LayerBuffer<Scalar: TensorScalar>: @unchecked Sendable {
    /// The values.
    public var value: Tensor<Scalar>

    /// A buffer holding `value`.
    public init(_ value: Tensor<Scalar>) { self.value = value }
}

/// Batch normalisation over channels, as PyTorch's `BatchNorm1d` on `[N, C]` and `BatchNorm2d`
/// on `[N, C, H, W]`: in training, each channel is normalised by the batch's mean and biased
/// variance over every other axis, `(x − μ)/√(σ² + ε)`, then scaled by ``weight`` (γ, ones) and
/// shifted by ``bias`` (β, zeros); the running mean and unbiased variance follow the batches,
/// `r ← (1 − momentum)·r + momentum·batch`. In inference the running statistics normalise
/// instead. The gradient flows through the batch statistics too; the tape derives it from the
/// ops (mean, subtraction, square root, division), nothing is written by hand.
///
/// A batch of one row per channel in training has variance 0 and normalises to 0, as in
/// PyTorch; its running variance takes the biased value.
public struct BatchNorm<Scalar: TensorScalar>: Layer {
    /// γ, one per channel.
    public let weight: Variable<Scalar>
    /// β, one per channel.
    public let bias: Variable<Scalar>
    /// The running mean, one per channel (zeros at first).
    public let runningMean: LayerBuffer<Scalar>
    /// The running unbiased variance, one per channel (ones at first).
    public let runningVariance: LayerBuffer<Scalar>
    /// How far each training batch moves the running statistics (PyTorch's default 0.1).
    public let momentum: Double
    /// Added to the variance before the square root.
    public let epsilon: Double

    /// A layer for `features` channels with its parameters on `tape`.
    public init(features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5, on tape: Tape<Scalar>) {
        Failure.check(features > 0, "BatchNorm: features must be positive, got \(features)")
        Failure.check((0...1).contains(momentum), "BatchNorm: momentum \(momentum) is outside [0, 1]")
        Failure.check(epsilon >= 0 && epsilon.isFinite, "BatchNorm: epsilon \(epsilon) must be finite and not negative")
        weight = tape.parameter(.ones([features]))
        bias = tape.parameter(.zeros([features]))
        runningMean = LayerBuffer(.zeros([features]))
        runningVariance = LayerBuffer(.ones([features]))
        (self.momentum, self.epsilon) = (momentum, epsilon)
    }

    /// The number of channels.
    public var features: Int { weight.shape[0] }

    /// `x` (`[N, C]` or `[N, C, H, W]`) normalised per channel: by the batch's statistics in
    /// training (updating the running ones), by the running statistics in inference.
    @inlinable
    public func callAsFunction(_ x: Variable<Scalar>, training: Bool) -> Variable<Scalar> {
        if training {
            let (y, mean, variance, count) = Self.normalizedByBatch(x, weight: weight, bias: bias, epsilon: epsilon)
            updateRunningStatistics(mean: mean.value, variance: variance.value, count: count)
            return y
        }
        let (shape, channels) = Self.checkShape(x, channels: features)
        let tape = x.tape
        let deviation = runningVariance.value.scalars.map { Scalar((Double($0) + epsilon).squareRoot()) }
        let normalized = (Self.channelRows(x, shape) - tape.constant(runningMean.value.reshaped(to: [channels, 1])))
            / tape.constant(Tensor(shape: [channels, 1], scalars: deviation))
        return Self.scaled(normalized, weight: weight, bias: bias, shape)
    }

    /// Training mode as a function of its variables: the output, the batch's mean and biased
    /// variance per channel (`[C, 1]`), and the count each was taken over.
    @inlinable
    static func normalizedByBatch(
        _ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>, epsilon: Double
    ) -> (output: Variable<Scalar>, mean: Variable<Scalar>, variance: Variable<Scalar>, count: Int) {
        let (shape, channels) = checkShape(x, channels: weight.shape[0])
        let rows = channelRows(x, shape)
        let mean = rows.mean(alongAxis: 1, keepingDimensions: true)
        let centered = rows - mean
        let variance = centered.squared().mean(alongAxis: 1, keepingDimensions: true)
        let output = scaled(centered / sqrt(variance + Scalar(epsilon)), weight: weight, bias: bias, shape)
        return (output, mean, variance, shape.reduce(1, *) / channels)
    }

    /// The shape of `x`, checked to be `[N, C]` or `[N, C, H, W]`, and C.
    @inlinable
    static func checkShape(_ x: Variable<Scalar>, channels: Int) -> ([Int], Int) {
        let shape = x.shape
        Failure.check((shape.count == 2 || shape.count == 4) && shape[1] == channels,
                      "BatchNorm: input \(shape) must be [N, \(channels)] or [N, \(channels), H, W] for \(channels) channels")
        return (shape, channels)
    }

    /// Each channel's values as a row of a `[C, count]` matrix.
    @inlinable
    static func channelRows(_ x: Variable<Scalar>, _ shape: [Int]) -> Variable<Scalar> {
        shape.count == 2 ? x.transposed() : x.transposed([1, 0, 2, 3]).reshaped(to: [shape[1], shape.reduce(1, *) / shape[1]])
    }

    /// γ·rows + β, back in the input's layout.
    @inlinable
    static func scaled(_ rows: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>, _ shape: [Int]) -> Variable<Scalar> {
        let channels = shape[1]
        let y = rows * weight.reshaped(to: [channels, 1]) + bias.reshaped(to: [channels, 1])
        return shape.count == 2 ? y.transposed() : y.reshaped(to: [channels, shape[0], shape[2], shape[3]]).transposed([1, 0, 2, 3])
    }

    /// `r ← (1 − momentum)·r + momentum·batch`, the variance made unbiased (`n/(n−1)`) first.
    @usableFromInline
    func updateRunningStatistics(mean: Tensor<Scalar>, variance: Tensor<Scalar>, count: Int) {
        let (m, keep) = (Scalar(momentum), Scalar(1 - momentum))
        let unbiased = count > 1 ? Scalar(Double(count) / Double(count - 1)) : 1
        let means = zip(runningMean.value.scalars, mean.scalars).map { keep * $0 + m * $1 }
        let variances = zip(runningVariance.value.scalars, variance.scalars).map { keep * $0 + m * ($1 * unbiased) }
        runningMean.value = Tensor(shape: [features], scalars: means)
        runningVariance.value = Tensor(shape: [features], scalars: variances)
    }

    /// `weight`, `bias`.
    public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [("weight", weight), ("bias", bias)] }
    /// `running_mean`, `running_var` (PyTorch's names).
    public var namedBuffers: [(name: String, buffer: LayerBuffer<Scalar>)] {
        [("running_mean", runningMean), ("running_var", runningVariance)]
    }
    /// `batchnorm 16`.
    public var description: String { "batchnorm \(features)" }
}
