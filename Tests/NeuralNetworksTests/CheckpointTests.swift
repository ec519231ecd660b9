import Foundation
import NeuralNetworks
import Testing

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

func expectCheckpointError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing '\(fragment)', got none", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        #expect(error.description.contains(fragment), "expected '\(fragment)' in '\(error)'", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Checkpoints in safetensors")
struct CheckpointTests {
    @Test("the bytes follow the safetensors layout: length, JSON header, little-endian data")
    func layout() throws {
        let weight = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 0.5, 3, 4, 1e-3])
        let bias = Tensor<Float>([7, 8, 9])
        let bytes = Checkpoint.encode([("layers.0.weight", weight), ("layers.0.bias", bias)], metadata: ["sizes": "3,3"])
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + length) % 8 == 0, "data starts 8-byte aligned")
        #expect(bytes.count == 8 + length + 4 * 9)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        let w = header["layers.0.weight"] as! [String: Any]
        #expect(w["dtype"] as? String == "F32")
        #expect(w["shape"] as? [Int] == [2, 3])
        #expect(w["data_offsets"] as? [Int] == [0, 24])
        #expect((header["layers.0.bias"] as! [String: Any])["data_offsets"] as? [Int] == [24, 36])
        #expect((header["__metadata__"] as? [String: String])?["sizes"] == "3,3")
        // Element 1 of the weight, -2.0f, little-endian at data offset 4.
        let start = 8 + length + 4
        let bits = UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16 | UInt32(bytes[start + 3]) << 24
        #expect(Float(bitPattern: bits) == -2)
        let decoded: CheckpointContents<Float> = try Checkpoint.decode(bytes, path: "x")
        #expect(decoded.tensors["layers.0.weight"] == weight && decoded.tensors["layers.0.bias"] == bias)
        #expect(decoded.metadata == ["sizes": "3,3"])
    }

    @Test("a model round-trips through a file, and a Double file loads into a Float model")
    func roundTrip() throws {
        let path = temporaryPath("model.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tape = Tape<Float>()
        let model = MLP<Float>(sizes: [4, 5, 3], activation: .relu, initializer: .he, on: tape, seed: 1)
        try Checkpoint.save(model.namedParameters, to: path)
        let other = MLP<Float>(sizes: [4, 5, 3], activation: .relu, initializer: .he, on: tape, seed: 2)
        #expect(other.layers[0].weight.value != model.layers[0].weight.value)
        try Checkpoint.load(other.namedParameters, from: path)
        for (a, b) in zip(model.parameters, other.parameters) { #expect(a.value == b.value) }
        let doubles = Checkpoint.encode(model.namedParameters.map { ($0.name, $0.parameter.value.converted(to: Double.self)) })
        let restored: CheckpointContents<Float> = try Checkpoint.decode(doubles, path: "d")
        #expect(restored.tensors["layers.1.bias"] == model.layers[1].bias.value)
    }

    @Test("corrupt, truncated and mismatched files are errors naming the file")
    func corrupt() throws {
        let good = Checkpoint.encode([("w", Tensor<Float>([1, 2, 3]))])
        expectCheckpointError("x: not a valid safetensors file: 4 bytes") { let _: CheckpointContents<Float> = try Checkpoint.decode(Array(good.prefix(4)), path: "x") }
        expectCheckpointError("exceeds the file") { let _: CheckpointContents<Float> = try Checkpoint.decode(Array(good.prefix(20)), path: "x") }
        expectCheckpointError("outside the data") { let _: CheckpointContents<Float> = try Checkpoint.decode(Array(good.dropLast(4)), path: "x") }
        var badJSON = good
        badJSON[8] = UInt8(ascii: "[")
        expectCheckpointError("not JSON") { let _: CheckpointContents<Float> = try Checkpoint.decode(badJSON, path: "x") }
        let header = Array(#"{"w":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#.utf8)
        let int8 = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + [1]
        let withInt8: CheckpointContents<Float> = try Checkpoint.decode(int8, path: "x")
        #expect(withInt8.unsupported == ["w": "I8"] && withInt8.tensors.isEmpty, "an I8 tensor is listed, not converted")
        let needsW = [(name: "w", parameter: Tape<Float>().parameter(Tensor([0])))]
        expectCheckpointError("dtype I8") { try Checkpoint.apply(withInt8, to: needsW, path: "x") }
        let lying = Array(#"{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4]}}"#.utf8)
        let huge = withUnsafeBytes(of: UInt64(lying.count).littleEndian, Array.init) + lying + [0, 0, 0, 0]
        expectCheckpointError("larger than the file") { let _: CheckpointContents<Float> = try Checkpoint.decode(huge, path: "x") }

        let path = temporaryPath("small.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tape = Tape<Float>()
        try Checkpoint.save(MLP<Float>(sizes: [4, 5, 3], activation: .relu, initializer: .he, on: tape, seed: 1).namedParameters, to: path)
        let wider = MLP<Float>(sizes: [4, 6, 3], activation: .relu, initializer: .he, on: tape, seed: 1)
        let before = wider.layers[1].weight.value
        expectCheckpointError("'layers.0.weight' has shape [4, 5], the model needs [4, 6]") { try Checkpoint.load(wider.namedParameters, from: path) }
        #expect(wider.layers[1].weight.value == before, "nothing changes when the file does not fit")
        expectCheckpointError("no tensor named 'layers.2.weight'") {
            try Checkpoint.load(MLP<Float>(sizes: [4, 5, 3, 2], activation: .relu, initializer: .he, on: tape, seed: 1).namedParameters, from: path)
        }
    }

    @Test("writes are atomic: a failed write leaves the old file whole")
    func atomicWrite() throws {
        let path = temporaryPath("keep.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write([4, 5], to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == [4, 5])
        expectCheckpointError("cannot write") { try AtomicFile.write([9], to: "/nonexistent-folder/x.safetensors") }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == [4, 5])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.contains("keep.safetensors") && $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "no temporary files left: \(leftovers)")
    }
}
