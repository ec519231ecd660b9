import Autodiff
import Foundation

/// Why a checkpoint could not be read, written, or applied; each case names the file.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file cannot be read or written.
    case io(path: String, reason: String)
    /// The file is not valid safetensors (header length, JSON, offsets).
    case corrupt(path: String, reason: String)
    /// A tensor is missing, has the wrong dtype, or the wrong shape for the model.
    case incompatible(path: String, reason: String)

    /// A one-line message naming the file and the problem.
    public var description: String {
        switch self {
        case let .io(path, reason): "\(path): \(reason)"
        case let .corrupt(path, reason): "\(path): not a valid safetensors file: \(reason)"
        case let .incompatible(path, reason): "\(path): does not fit the model: \(reason)"
        }
    }
}

/// Named tensors in the safetensors format: an 8-byte little-endian header length, a JSON
/// header `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`, then
/// the raw little-endian data. Python's `safetensors` and numpy read what this writes, and
/// this reads theirs (F32 and F64; F64 data loads into a Float model and vice versa).
public enum Checkpoint {
    /// The bytes of a safetensors file holding `tensors` in the given order, and `metadata` as
    /// the format's `__metadata__` string map.
    public static func encode<S: TensorScalar>(
        _ tensors: [(name: String, tensor: Tensor<S>)], metadata: [String: String] = [:]
    ) -> [UInt8] {
        let dtype = S.self == Double.self ? "F64" : "F32"
        let width = MemoryLayout<S>.size
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            let end = offset + tensor.count * width
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // The format pads the header with spaces so the data starts 8-byte aligned.
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { p in
                for value in p {
                    if S.self == Double.self {
                        withUnsafeBytes(of: (value as! Double).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                    } else {
                        withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                    }
                }
            }
        }
        return bytes
    }

    /// The tensors of a safetensors file, by name, converted to `S`. Validates the header
    /// length, the JSON, each dtype, shape and data range (within the file, matching the
    /// shape, not overlapping).
    public static func decode<S: TensorScalar>(_ bytes: [UInt8], path: String) throws(CheckpointError) -> CheckpointContents<S> {
        guard bytes.count >= 8 else { throw .corrupt(path: path, reason: "\(bytes.count) bytes, shorter than the 8-byte header length") }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(bytes.count - 8) else {
            throw .corrupt(path: path, reason: "header length \(length) exceeds the file (\(bytes.count) bytes)")
        }
        let dataStart = 8 + Int(length)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        } catch {
            throw .corrupt(path: path, reason: "the header is not JSON")
        }
        guard let header = json as? [String: Any] else { throw .corrupt(path: path, reason: "the header is not a JSON object") }
        let dataLength = bytes.count - dataStart
        var result: [String: Tensor<S>] = [:]
        var metadata: [String: String] = [:]
        if let given = header["__metadata__"] {
            guard let map = given as? [String: Any] else { throw .corrupt(path: path, reason: "__metadata__ is not an object") }
            for (key, value) in map {
                guard let text = value as? String else { throw .corrupt(path: path, reason: "__metadata__ value of '\(key)' is not a string") }
                metadata[key] = text
            }
        }
        var ranges: [(Int, Int, String)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any], let offsetValues = entry["data_offsets"] as? [Any],
                  offsetValues.count == 2
            else { throw .corrupt(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets") }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetValues.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), offsets.count == 2 else {
                throw .corrupt(path: path, reason: "entry '\(name)' has a malformed shape or offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F64": width = 8
            default: throw .incompatible(path: path, reason: "tensor '\(name)' has dtype \(dtype); F32 and F64 are supported")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataLength else {
                    throw .corrupt(path: path, reason: "tensor '\(name)' shape \(shape) is larger than the file")
                }
                count = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw .corrupt(path: path, reason: "tensor '\(name)' offsets [\(begin), \(end)] are outside the data (\(dataLength) bytes)")
            }
            guard end - begin == count * width else {
                throw .corrupt(path: path, reason: "tensor '\(name)' offsets span \(end - begin) bytes, its shape \(shape) needs \(count * width)")
            }
            ranges.append((begin, end, name))
            let base = dataStart + begin
            result[name] = Tensor<S>(shape: shape) { out in
                for i in 0..<count {
                    var bits: UInt64 = 0
                    for b in (0..<width).reversed() { bits = bits << 8 | UInt64(bytes[base + i * width + b]) }
                    out[i] = width == 4 ? S(Float(bitPattern: UInt32(bits))) : S(Double(bitPattern: bits))
                }
            }
        }
        ranges.sort { $0.0 < $1.0 }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.0 < a.1 {
            throw .corrupt(path: path, reason: "tensors '\(a.2)' and '\(b.2)' overlap")
        }
        return CheckpointContents(tensors: result, metadata: metadata)
    }

    /// Writes `tensors` to `path` atomically: a temporary file in the same folder, then a rename,
    /// so an interrupted save never leaves a half-written checkpoint behind.
    public static func save<S: TensorScalar>(
        _ tensors: [(name: String, tensor: Tensor<S>)], metadata: [String: String] = [:], to path: String
    ) throws(CheckpointError) {
        try AtomicFile.write(encode(tensors, metadata: metadata), to: path)
    }

    /// Reads every tensor (and the metadata) of a safetensors file.
    public static func read<S: TensorScalar>(from path: String) throws(CheckpointError) -> CheckpointContents<S> {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(bytes, path: path)
    }

    /// Saves the parameters of a model under their names.
    public static func save<S: TensorScalar>(
        _ parameters: [(name: String, parameter: Variable<S>)], metadata: [String: String] = [:], to path: String
    ) throws(CheckpointError) {
        try save(parameters.map { ($0.name, $0.parameter.value) }, metadata: metadata, to: path)
    }

    /// Loads a checkpoint into a model's parameters. Every parameter must be present with its
    /// exact shape; nothing is changed unless all of them fit.
    public static func load<S: TensorScalar>(_ parameters: [(name: String, parameter: Variable<S>)], from path: String) throws(CheckpointError) {
        let tensors = (try read(from: path) as CheckpointContents<S>).tensors
        try apply(tensors, to: parameters, path: path)
    }

    /// Assigns `tensors` to `parameters` by name; all must fit before any is changed.
    public static func apply<S: TensorScalar>(
        _ tensors: [String: Tensor<S>], to parameters: [(name: String, parameter: Variable<S>)], path: String
    ) throws(CheckpointError) {
        for (name, parameter) in parameters {
            guard let tensor = tensors[name] else { throw .incompatible(path: path, reason: "no tensor named '\(name)'") }
            guard tensor.shape == parameter.shape else {
                throw .incompatible(path: path, reason: "'\(name)' has shape \(tensor.shape), the model needs \(parameter.shape)")
            }
        }
        for (name, parameter) in parameters { parameter.tape.assign(tensors[name]!, to: parameter) }
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// The tensors and metadata of a safetensors file.
public struct CheckpointContents<S: TensorScalar>: Sendable {
    /// Tensors by name.
    public let tensors: [String: Tensor<S>]
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
}

/// Writing a file so that readers see either the old or the whole new content.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws(CheckpointError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(bytes).write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            // rename(2) replaces the target atomically within one file system.
            guard rename(temporary.path, path) == 0 else {
                throw CheckpointError.io(path: path, reason: "cannot rename the temporary file: \(String(cString: strerror(errno)))")
            }
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .io(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
