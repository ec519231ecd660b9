import Autodiff
import Foundation

/// The layers of a ``Sequential`` model as text, what a checkpoint's metadata records
/// (`"format": "autodiff-sequential"`, `"layers": "reshape 1×28×28; conv2d 1→32 3×3; relu; …"`)
/// and what builds the model again. Each layer is written as layer's `description`:
/// `reshape 1×28×28`, `flatten`, `conv2d 1→32 3×3` (then `stride a,b`, `padding a,b`,
/// `dilation a,b`, `groups g`, `no-bias` where they differ from the defaults), an activation
/// name (`relu`), `maxpool 2×2` or `avgpool 2×2` (then `stride a,b`, `padding a,b`),
/// `dropout 0.25`, `dense 9216→128`, `batchnorm 32`.
public struct SequentialArchitecture: Equatable, Sendable, CustomStringConvertible {
    /// One layer and its sizes.
    public enum LayerSpec: Equatable, Sendable {
        /// ``Reshape`` to a sample shape (`[-1]` flattens).
        case reshape([Int])
        /// ``Conv2D``.
        case conv2d(inputs: Int, outputs: Int, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int], groups: Int, bias: Bool)
        /// ``ActivationLayer``.
        case activation(Activation)
        /// ``MaxPool2D``.
        case maxPool(kernel: [Int], stride: [Int], padding: [Int])
        /// ``AvgPool2D``.
        case avgPool(kernel: [Int], stride: [Int], padding: [Int])
        /// ``Dropout``.
        case dropout(Double)
        /// ``Dense``.
        case dense(inputs: Int, outputs: Int)
        /// ``BatchNorm`` over this many channels.
        case batchNorm(Int)
    }

    /// The layers, input first.
    public var layers: [LayerSpec]

    /// An architecture of `layers`.
    public init(layers: [LayerSpec]) { self.layers = layers }

    /// The metadata a checkpoint of this architecture carries.
    public var metadata: [String: String] { ["format": "autodiff-sequential", "layers": description] }

    /// The layers as text, separated by `; ` (`init(parsing:problem:)` reads it back).
    public var description: String { layers.map(Self.describe).joined(separator: "; ") }

    static func describe(_ layer: LayerSpec) -> String {
        func pair(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }
        func pooling(_ name: String, _ kernel: [Int], _ stride: [Int], _ padding: [Int]) -> String {
            var text = "\(name) \(kernel[0])×\(kernel[1])"
            if stride != kernel { text += " stride \(pair(stride))" }
            if padding != [0, 0] { text += " padding \(pair(padding))" }
            return text
        }
        switch layer {
        case let .reshape(shape): return shape == [-1] ? "flatten" : "reshape " + shape.map(String.init).joined(separator: "×")
        case let .conv2d(inputs, outputs, kernel, stride, padding, dilation, groups, bias):
            var text = "conv2d \(inputs)→\(outputs) \(kernel[0])×\(kernel[1])"
            if stride != [1, 1] { text += " stride \(pair(stride))" }
            if padding != [0, 0] { text += " padding \(pair(padding))" }
            if dilation != [1, 1] { text += " dilation \(pair(dilation))" }
            if groups != 1 { text += " groups \(groups)" }
            return bias ? text : text + " no-bias"
        case let .activation(activation): return activation.description
        case let .maxPool(kernel, stride, padding): return pooling("maxpool", kernel, stride, padding)
        case let .avgPool(kernel, stride, padding): return pooling("avgpool", kernel, stride, padding)
        case let .dropout(probability): return "dropout \(probability)"
        case let .dense(inputs, outputs): return "dense \(inputs)→\(outputs)"
        case let .batchNorm(channels): return "batchnorm \(channels)"
        }
    }

    /// Reads ``description`` back; nil names no layer: the reason for the first text that is
    /// not one comes in `problem`.
    public init?(parsing text: String, problem: inout String) {
        var layers: [LayerSpec] = []
        for part in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let layer = Self.parseLayer(part) else {
                problem = "'\(part)' is not a layer (conv2d, maxpool, avgpool, dense, dropout, batchnorm, reshape, flatten or an activation)"
                return nil
            }
            layers.append(layer)
        }
        guard !layers.isEmpty else {
            problem = "no layers"
            return nil
        }
        self.layers = layers
    }

    static func parseLayer(_ text: String) -> LayerSpec? {
        let words = text.split(separator: " ").map(String.init)
        guard let head = words.first else { return nil }
        func sizes(_ word: String, _ separator: Character) -> [Int]? {
            let parts = word.split(separator: separator, omittingEmptySubsequences: false).map { Int($0) }
            return parts.contains(nil) ? nil : parts.map { $0! }
        }
        func arrow(_ word: String) -> (Int, Int)? {
            guard let sizes = sizes(word, "→"), sizes.count == 2 else { return nil }
            return (sizes[0], sizes[1])
        }
        /// `name a,b` options after the fixed words, as a map; nil on anything unknown.
        func options(_ from: Int, allowed: Set<String>) -> [String: [Int]]? {
            var result: [String: [Int]] = [:]
            var i = from
            while i < words.count {
                if words[i] == "no-bias" && allowed.contains("no-bias") { result["no-bias"] = []; i += 1; continue }
                guard allowed.contains(words[i]), i + 1 < words.count, result[words[i]] == nil,
                      let values = sizes(words[i + 1], ","), values.count == (words[i] == "groups" ? 1 : 2) else { return nil }
                result[words[i]] = values
                i += 2
            }
            return result
        }
        switch head {
        case "flatten" where words.count == 1: return .reshape([-1])
        case "reshape" where words.count == 2:
            return sizes(words[1], "×").map { .reshape($0) }
        case "conv2d" where words.count >= 3:
            guard let (inputs, outputs) = arrow(words[1]), let kernel = sizes(words[2], "×"), kernel.count == 2,
                  let extra = options(3, allowed: ["stride", "padding", "dilation", "groups", "no-bias"]) else { return nil }
            return .conv2d(inputs: inputs, outputs: outputs, kernel: kernel, stride: extra["stride"] ?? [1, 1],
                           padding: extra["padding"] ?? [0, 0], dilation: extra["dilation"] ?? [1, 1],
                           groups: extra["groups"]?[0] ?? 1, bias: extra["no-bias"] == nil)
        case "maxpool" where words.count >= 2, "avgpool" where words.count >= 2:
            guard let kernel = sizes(words[1], "×"), kernel.count == 2,
                  let extra = options(2, allowed: ["stride", "padding"]) else { return nil }
            let (stride, padding) = (extra["stride"] ?? kernel, extra["padding"] ?? [0, 0])
            return head == "maxpool" ? .maxPool(kernel: kernel, stride: stride, padding: padding)
                                     : .avgPool(kernel: kernel, stride: stride, padding: padding)
        case "dropout" where words.count == 2:
            guard let p = Double(words[1]), (0...1).contains(p) else { return nil }
            return .dropout(p)
        case "dense" where words.count == 2:
            return arrow(words[1]).map { .dense(inputs: $0.0, outputs: $0.1) }
        case "batchnorm" where words.count == 2:
            return Int(words[1]).map { .batchNorm($0) }
        default:
            return words.count == 1 ? Activation(name: head).map { .activation($0) } : nil
        }
    }

    /// The shape of each sample's output for samples of `input` (e.g. `[784]`), or why the
    /// layers do not fit together (a wrong channel count, a kernel larger than its input, a
    /// dense layer whose inputs are not the previous output, sizes that are not positive, more
    /// parameters than memory holds).
    public func outputShape(forSample input: [Int]) -> Result<[Int], ArchitectureProblem> {
        var shape = input
        var parameters = 0
        for (i, layer) in layers.enumerated() {
            func fail(_ reason: String) -> Result<[Int], ArchitectureProblem> {
                .failure(ArchitectureProblem(description: "layer \(i) (\(Self.describe(layer))): \(reason)"))
            }
            switch layer {
            case let .reshape(target):
                let count = shape.reduce(1, *)
                let known = target.filter { $0 != -1 }.reduce(1, *)
                guard target.allSatisfy({ $0 > 0 || $0 == -1 }), target.filter({ $0 == -1 }).count <= 1, known > 0,
                      target.contains(-1) ? count % known == 0 : count == known else {
                    return fail("cannot reshape a sample of \(shape) to \(target)")
                }
                shape = target.map { $0 == -1 ? count / known : $0 }
            case let .conv2d(inputs, outputs, kernel, stride, padding, dilation, groups, _):
                guard inputs > 0, outputs > 0, groups > 0, inputs % groups == 0, outputs % groups == 0,
                      kernel.allSatisfy({ $0 > 0 }), stride.allSatisfy({ $0 > 0 }), dilation.allSatisfy({ $0 > 0 }),
                      padding.allSatisfy({ $0 >= 0 }), [kernel, stride, padding, dilation].allSatisfy({ $0.count == 2 }) else {
                    return fail("sizes must be positive (padding not negative) and groups must divide the channels")
                }
                guard shape.count == 3, shape[0] == inputs else { return fail("takes [\(inputs), H, W] samples, gets \(shape)") }
                var out = [outputs]
                for axis in 0..<2 {
                    let span = dilation[axis] * (kernel[axis] - 1) + 1, padded = shape[axis + 1] + 2 * padding[axis]
                    guard span <= padded else { return fail("the kernel spans \(span), more than the padded input's \(padded)") }
                    out.append((padded - span) / stride[axis] + 1)
                }
                shape = out
                let (weights, o1) = (inputs / groups * kernel[0]).multipliedReportingOverflow(by: kernel[1] * outputs)
                let (total, o2) = parameters.addingReportingOverflow(weights + outputs)
                if o1 || o2 { return fail("more parameters than Int.max") }
                parameters = total
            case .activation, .dropout:
                break
            case let .maxPool(kernel, stride, padding), let .avgPool(kernel, stride, padding):
                guard [kernel, stride, padding].allSatisfy({ $0.count == 2 }), kernel.allSatisfy({ $0 > 0 }),
                      stride.allSatisfy({ $0 > 0 }), padding.allSatisfy({ $0 >= 0 }),
                      padding[0] * 2 <= kernel[0], padding[1] * 2 <= kernel[1] else {
                    return fail("sizes must be positive and the padding at most half the kernel")
                }
                guard shape.count == 3 else { return fail("takes [C, H, W] samples, gets \(shape)") }
                var out = [shape[0]]
                for axis in 0..<2 {
                    let padded = shape[axis + 1] + 2 * padding[axis]
                    guard kernel[axis] <= padded else { return fail("the window is larger than the input's \(padded)") }
                    out.append((padded - kernel[axis]) / stride[axis] + 1)
                }
                shape = out
            case let .batchNorm(channels):
                guard channels > 0 else { return fail("the channel count must be positive") }
                guard (shape.count == 1 || shape.count == 3) && shape[0] == channels else {
                    return fail("takes [\(channels)] or [\(channels), H, W] samples, gets \(shape)")
                }
                parameters += 2 * channels
            case let .dense(inputs, outputs):
                guard inputs > 0, outputs > 0 else { return fail("sizes must be positive") }
                guard shape == [inputs] else { return fail("takes samples of [\(inputs)], gets \(shape)") }
                shape = [outputs]
                let (weights, o1) = inputs.multipliedReportingOverflow(by: outputs)
                let (total, o2) = parameters.addingReportingOverflow(weights &+ outputs)
                if o1 || o2 { return fail("more parameters than Int.max") }
                parameters = total
            }
        }
        // Each parameter takes a value, a gradient and up to two optimizer moments.
        let memory = ProcessInfo.processInfo.physicalMemory
        guard UInt64(parameters) <= memory / 16 else {
            return .failure(ArchitectureProblem(description: "\(parameters) parameters, more than this machine's \(memory >> 20) MiB of memory holds"))
        }
        return .success(shape)
    }

    /// The model on `tape`: weights from one generator seeded with `seed`, in layer order;
    /// each dropout layer seeded with `seed` plus its position.
    /// - Precondition: ``outputShape(forSample:)`` succeeds for the model's input.
    public func makeModel<S: TensorScalar>(on tape: Tape<S>, seed: UInt64, initializer: Initializer = .he) -> Sequential<S> {
        var generator = SeededGenerator(seed: seed)
        return Sequential(layers.enumerated().map { i, layer -> any Layer<S> in
            switch layer {
            case let .reshape(shape): return Reshape<S>(shape)
            case let .conv2d(inputs, outputs, kernel, stride, padding, dilation, groups, bias):
                return Conv2D(inputs: inputs, outputs: outputs, kernel: (kernel[0], kernel[1]), stride: (stride[0], stride[1]),
                              padding: (padding[0], padding[1]), dilation: (dilation[0], dilation[1]), groups: groups, bias: bias,
                              initializer: initializer, on: tape, using: &generator)
            case let .activation(activation): return ActivationLayer<S>(activation)
            case let .maxPool(kernel, stride, padding):
                return MaxPool2D<S>(kernel: (kernel[0], kernel[1]), stride: (stride[0], stride[1]), padding: (padding[0], padding[1]))
            case let .avgPool(kernel, stride, padding):
                return AvgPool2D<S>(kernel: (kernel[0], kernel[1]), stride: (stride[0], stride[1]), padding: (padding[0], padding[1]))
            case let .dropout(probability): return Dropout<S>(probability: probability, seed: seed &+ UInt64(i))
            case let .dense(inputs, outputs):
                return Dense(inputs: inputs, outputs: outputs, initializer: initializer, on: tape, using: &generator)
            case let .batchNorm(channels): return BatchNorm<S>(features: channels, on: tape)
            }
        })
    }

    /// The architecture a checkpoint describes (`format` autodiff-sequential), checked before
    /// anything is allocated for it: layers that parse and fit together for samples of
    /// `sample`, the tensors every parameter needs with their shapes, and none that belongs to
    /// no parameter.
    public init<S: TensorScalar>(checkpoint contents: CheckpointContents<S>, sample: [Int], path: String) throws(CheckpointError) {
        guard contents.metadata["format"] == "autodiff-sequential", let text = contents.metadata["layers"] else {
            throw .incompatible(path: path, reason: "the metadata does not describe a sequential model (format autodiff-sequential, layers)")
        }
        var problem = ""
        guard let parsed = SequentialArchitecture(parsing: text, problem: &problem) else {
            throw .incompatible(path: path, reason: "the metadata's layers: \(problem)")
        }
        if case let .failure(reason) = parsed.outputShape(forSample: sample) {
            throw .incompatible(path: path, reason: "the metadata's layers do not fit samples of \(sample): \(reason)")
        }
        // The parameter shapes come from the specs: nothing is allocated before the file fits.
        let expected = parsed.parameterShapes.enumerated().flatMap { k, layer in
            zip(layer.0, layer.1).map { ("layers.\(k).\($0)", $1) }
        }
        try Checkpoint.checkTensors(contents, expected: expected, source: "the layers", path: path)
        self = parsed
    }

    /// For each layer with parameters, in order: their names and shapes, buffers included.
    var parameterShapes: [([String], [[Int]])] {
        layers.compactMap { layer in
            switch layer {
            case let .conv2d(inputs, outputs, kernel, _, _, _, groups, bias):
                let weight = [outputs, inputs / groups, kernel[0], kernel[1]]
                return bias ? (["weight", "bias"], [weight, [outputs]]) : (["weight"], [weight])
            case let .dense(inputs, outputs): return (["weight", "bias"], [[inputs, outputs], [outputs]])
            // The running statistics are saved beside the parameters.
            case let .batchNorm(channels): return (["weight", "bias", "running_mean", "running_var"], Array(repeating: [channels], count: 4))
            case .reshape, .activation, .maxPool, .avgPool, .dropout: return nil
            }
        }
    }
}

/// Why a ``SequentialArchitecture`` does not fit its input: the layer and the reason.
public struct ArchitectureProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The layer's position and text, and what is wrong.
    public let description: String
}
