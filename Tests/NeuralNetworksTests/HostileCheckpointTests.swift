import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// The bytes of a safetensors file with `header` as its JSON and `data` after it.
func safetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data
}

/// The contents of a checkpoint of a 784-h-10 MLP whose metadata says `sizes` and `activation`.
func mlpCheckpoint(sizes: String, activation: String = "relu", hidden: Int = 4) throws -> CheckpointContents<Float> {
    let tape = Tape<Float>()
    let model = MLP<Float>(sizes: [784, hidden, 10], activation: .relu, initializer: .he, on: tape, seed: 1)
    let bytes = Checkpoint.encode(model.namedParameters.map { ($0.name, $0.parameter.value) },
                                  metadata: ["sizes": sizes, "activation": activation])
    return try Checkpoint.decode(bytes, path: "m.safetensors")
}

@Suite("Hostile checkpoints")
struct HostileCheckpointTests {
    @Test("metadata sizes that overflow, are huge, negative, zero or not numbers are refused before allocating",
          arguments: [
              ("784,4611686018427387904,10", "more parameters than Int.max"),
              ("784,99999999999,10", "parameters, more than this machine's"),
              ("784,-5,10", "a width that is not positive"), ("784,0,10", "a width that is not positive"),
              ("784,abc,16,10", "are not a list of integers"), ("784,,10", "are not a list of integers"),
              ("784,5,10", "'layers.0.weight' has shape [784, 4], but the metadata's sizes 784,5,10 need [784, 5]"),
              ("784,4,10,10", "need a tensor 'layers.2.weight', which the file lacks"),
          ])
    func metadataSizes(_ sizes: String, _ fragment: String) throws {
        let contents = try mlpCheckpoint(sizes: sizes)
        expectCheckpointError("m.safetensors: does not fit the model: ") { _ = try MLPArchitecture(checkpoint: contents, path: "m.safetensors") }
        expectCheckpointError(fragment) { _ = try MLPArchitecture(checkpoint: contents, path: "m.safetensors") }
    }

    @Test("an activation out of range is refused; a sound checkpoint is read back")
    func activations() throws {
        expectCheckpointError("activation 'leaky-relu:1e300' is unknown") {
            _ = try MLPArchitecture(checkpoint: try mlpCheckpoint(sizes: "784,4,10", activation: "leaky-relu:1e300"), path: "m")
        }
        let sound = try MLPArchitecture(checkpoint: try mlpCheckpoint(sizes: "784,4,10", activation: "leaky-relu:0.2"), path: "m")
        #expect(sound == MLPArchitecture(sizes: [784, 4, 10], activation: .leakyRelu(alpha: 0.2)))
    }

    @Test("numbers beyond Int or with fractions are refused, as Python's reader does")
    func numbers() {
        let cases = [
            (#"{"w":{"dtype":"F32","shape":[18446744073709552400,16],"data_offsets":[0,0]}}"#, "is larger than 9223372036854775807"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551616,4]}}"#, "is larger than 9223372036854775807"),
            (#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, "is not an integer"),
            (#"{"w":{"dtype":"F32","shape":[1e2],"data_offsets":[0,4]}}"#, "is not an integer"),
            (#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "is not a non-negative integer"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, "key 'w' appears twice"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, "unknown or repeated field 'extra'"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, "1 data offsets, not 2"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#, "text after the header object"),
        ]
        for (header, fragment) in cases {
            expectCheckpointError(fragment) { let _: CheckpointContents<Float> = try Checkpoint.decode(safetensors(header, data: [0, 0, 0, 0]), path: "h") }
        }
    }

    @Test("a header longer than 100 MB is refused from its length alone")
    func headerCap() {
        var bytes = withUnsafeBytes(of: UInt64(100_000_001).littleEndian, Array.init)
        bytes += [UInt8](repeating: 0x20, count: 100_000_001)
        expectCheckpointError("more than the 100000000 bytes allowed") { let _: CheckpointContents<Float> = try Checkpoint.decode(bytes, path: "big") }
    }

    @Test("empty tensors may share offset 0; an unused tensor of another dtype is ignored")
    func lenient() throws {
        let header = #"{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"f":{"dtype":"F64","shape":[0,3],"data_offsets":[0,0]},"# +
            #""w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[4,12]}}"#
        let contents: CheckpointContents<Float> = try Checkpoint.decode(safetensors(header, data: [0, 0, 128, 63] + [UInt8](repeating: 0, count: 8)), path: "ok")
        #expect(contents.tensors["w"] == Tensor([1]) && contents.tensors["e"]?.shape == [0] && contents.tensors["f"]?.shape == [0, 3])
        #expect(contents.unsupported == ["ids": "I64"])
    }

    @Test("a header of 100,000 empty entries is read into small records")
    func manyEntries() throws {
        let entries = (0..<100_000).map { #""t\#($0)":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"# }
        let contents: CheckpointContents<Float> = try Checkpoint.decode(safetensors("{" + entries.joined(separator: ",") + "}"), path: "many")
        #expect(contents.tensors.count == 100_000)
    }

    @Test("NaN weights are refused when loading, and nothing is changed")
    func nonFinite() throws {
        let tape = Tape<Float>()
        let model = MLP<Float>(sizes: [2, 2], activation: .relu, initializer: .he, on: tape, seed: 1)
        let before = model.layers[0].weight.value
        let bytes = Checkpoint.encode([("layers.0.weight", Tensor<Float>(repeating: .nan, shape: [2, 2])), ("layers.0.bias", Tensor<Float>.zeros([2]))])
        expectCheckpointError("'layers.0.weight' holds nan at element 0; a model needs finite weights") {
            try Checkpoint.apply(try Checkpoint.decode(bytes, path: "nan"), to: model.namedParameters, path: "nan")
        }
        #expect(model.layers[0].weight.value == before)
    }
}

@Suite("Saving where a save must not go")
struct HostileSaveTests {
    @Test("a symbolic link is followed: its target gets the bytes and the link stays")
    func symlink() throws {
        let (target, link) = (temporaryPath("target.bin"), temporaryPath("link.bin"))
        defer { for p in [target, link] { try? FileManager.default.removeItem(atPath: p) } }
        try AtomicFile.write([1], to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try AtomicFile.write([2, 3], to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target, "the link is still a link")
        #expect(try RegularFile.read(target) == [2, 3])
        expectCheckpointError("it is a symbolic link to a missing file") {
            try FileManager.default.removeItem(atPath: target)
            try AtomicFile.write([4], to: link)
        }
    }

    @Test("a FIFO, a device and a directory are refused, never replaced")
    func specialFiles() throws {
        let fifo = temporaryPath("fifo")
        defer { try? FileManager.default.removeItem(atPath: fifo) }
        #expect(mkfifo(fifo, 0o600) == 0)
        expectCheckpointError("it exists and is not a regular file") { try AtomicFile.write([1], to: fifo) }
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO is still a FIFO")
        expectCheckpointError("it exists and is not a regular file") { try AtomicFile.checkWritable("/dev/null") }
        expectCheckpointError("it exists and is not a regular file") { try AtomicFile.checkWritable(FileManager.default.temporaryDirectory.path) }
        expectCheckpointError("the folder /nonexistent-folder does not exist") { try AtomicFile.checkWritable("/nonexistent-folder/m.safetensors") }
    }

    @Test("temporary files of killed saves are removed by the next save")
    func staleTemporaries() throws {
        let path = temporaryPath("model.safetensors")
        let name = URL(fileURLWithPath: path).lastPathComponent
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        // A process ID that is not running.
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead += 1 }
        let stale = "\(folder)/.\(name).\(dead).tmp"
        let live = "\(folder)/.\(name).\(getppid()).tmp"
        defer { for p in [path, stale, live] { try? FileManager.default.removeItem(atPath: p) } }
        try AtomicFile.write([0], to: stale)
        try AtomicFile.write([0], to: live)
        try AtomicFile.write([1, 2], to: path)
        #expect(!FileManager.default.fileExists(atPath: stale), "the dead process's temporary file is gone")
        #expect(FileManager.default.fileExists(atPath: live), "a running process's temporary file is left alone")
    }
}

@Suite("Per-layer activations")
struct PerLayerActivationTests {
    @Test("relu then tanh: applied layer by layer, written to the metadata and read back")
    func roundTrip() throws {
        let tape = Tape<Double>()
        let model = MLP<Double>(sizes: [3, 4, 5, 2], activations: [.relu, .tanh], initializer: .xavier, on: tape, seed: 4)
        let x = tape.constant(Tensor(shape: [2, 3], scalars: [0.5, -1, 2, 1, 0.25, -0.5]))
        var h = linear(x, weight: model.layers[0].weight, bias: model.layers[0].bias)
        h = tanh(linear(relu(h), weight: model.layers[1].weight, bias: model.layers[1].bias))
        let byHand = linear(h, weight: model.layers[2].weight, bias: model.layers[2].bias)
        #expect(model(x).value == byHand.value, "relu after layer 0, tanh after layer 1, nothing after the last")
        let architecture = MLPArchitecture(sizes: model.sizes, activations: model.activations)
        #expect(architecture.metadata["activation"] == "relu,tanh")
        let bytes = Checkpoint.encode(model.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: architecture.metadata)
        let read = try MLPArchitecture(checkpoint: try Checkpoint.decode(bytes, path: "m") as CheckpointContents<Double>, path: "m")
        #expect(read == architecture)
        #expect(MLPArchitecture.activations(parsing: "relu,tanh,tanh", hiddenLayers: 2) == nil)
        #expect(MLPArchitecture.activations(parsing: "sigmoid", hiddenLayers: 3) == [.sigmoid, .sigmoid, .sigmoid])
    }

    @Test("every inconsistency of an optimizer's state is refused with the tensor's name, and nothing changes",
          arguments: [
              ("transposed", "'optimizer.first.layers.0.weight' has shape [4, 784], the parameter 'layers.0.weight' has [784, 4]"),
              ("nan", "'optimizer.first.layers.0.bias' holds nan at element 0"),
              ("negative", "'optimizer.second.layers.1.bias' holds -1.0 at element 0; it must be finite and not negative"),
              ("steps", "'optimizer.steps' is 'abc', not a non-negative integer"),
              ("missing", "the adam state lacks 'optimizer.second.layers.1.weight'"),
          ])
    func optimizerState(_ defect: String, _ expected: String) throws {
        let tape = Tape<Float>()
        let model = MLP<Float>(sizes: [784, 4, 10], activation: .relu, initializer: .he, on: tape, seed: 1)
        let optimizer = GradientDescent<Float>(kind: .adam(beta1: 0.9, beta2: 0.999), parameters: model.parameters)
        let (names, shapes) = (model.namedParameters.map(\.name), model.parameters.map(\.shape))
        var state = optimizer.state(names: names, shapes: shapes)
        for i in state.tensors.indices {
            let (name, tensor) = state.tensors[i]
            switch (defect, name) {
            case ("transposed", "optimizer.first.layers.0.weight"): state.tensors[i].tensor = Tensor(shape: [4, 784], scalars: tensor.scalars)
            case ("nan", "optimizer.first.layers.0.bias"): state.tensors[i].tensor = tensor.map { _ in .nan }
            case ("negative", "optimizer.second.layers.1.bias"): state.tensors[i].tensor = tensor.map { _ in -1 }
            default: break
            }
        }
        if defect == "missing" { state.tensors.removeAll { $0.name == "optimizer.second.layers.1.weight" } }
        if defect == "steps" { state.metadata["optimizer.steps"] = "abc" }
        let contents: CheckpointContents<Float> = try Checkpoint.decode(Checkpoint.encode(state.tensors, metadata: state.metadata), path: "m")
        var restored = optimizer
        do {
            _ = try restored.restore(contents, names: names, shapes: shapes, path: "m")
            Issue.record("\(defect): restored without complaint")
        } catch {
            #expect(error.description.contains(expected), "\(defect): expected '\(expected)' in '\(error)'")
        }
        #expect(restored.stepCount == 0, "nothing changed")
    }

    @Test("a tensor that belongs to no parameter is refused by name")
    func strayTensor() throws {
        let tape = Tape<Float>()
        let model = MLP<Float>(sizes: [784, 4, 10], activation: .relu, initializer: .he, on: tape, seed: 1)
        let tensors = model.namedParameters.map { ($0.name, $0.parameter.value) } + [("optimizer.first.layers.5.bias", Tensor<Float>.zeros([2]))]
        let contents: CheckpointContents<Float> = try Checkpoint.decode(
            Checkpoint.encode(tensors, metadata: MLPArchitecture(sizes: [784, 4, 10], activation: .relu).metadata), path: "m")
        #expect(throws: CheckpointError.incompatible(path: "m", reason: "tensor 'optimizer.first.layers.5.bias' belongs to no parameter of the model")) {
            _ = try MLPArchitecture(checkpoint: contents, path: "m")
        }
    }

    @Test("a save path whose name is too long for the file system is refused before any work")
    func tooLongName() {
        let path = NSTemporaryDirectory() + String(repeating: "x", count: 300) + ".safetensors"
        #expect(throws: CheckpointError.self) { try AtomicFile.checkWritable(path) }
        // A name that fits though its temporary file's would not (the temporary name is cut).
        let long = NSTemporaryDirectory() + String(repeating: "y", count: 240) + ".safetensors"
        #expect(throws: Never.self) { try AtomicFile.checkWritable(long) }
    }
}
