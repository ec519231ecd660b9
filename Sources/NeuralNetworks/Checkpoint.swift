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
    /// length (at most 100 MB, as Python's reader), the JSON, each shape and data range (within
    /// the file, matching the shape, not overlapping; empty tensors may share an offset). Tensors
    /// of other dtypes than F32 and F64 are listed in ``CheckpointContents/unsupported``, an
    /// error only if a model asks for them.
    public static func decode<S: TensorScalar>(_ bytes: [UInt8], path: String) throws(CheckpointError) -> CheckpointContents<S> {
        guard bytes.count >= 8 else { throw .corrupt(path: path, reason: "\(bytes.count) bytes, shorter than the 8-byte header length") }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(bytes.count - 8) else {
            throw .corrupt(path: path, reason: "header length \(length) exceeds the file (\(bytes.count) bytes)")
        }
        guard length <= UInt64(SafetensorsHeader.maximumLength) else {
            throw .corrupt(path: path, reason: "header length \(length) is more than the \(SafetensorsHeader.maximumLength) bytes allowed")
        }
        let dataStart = 8 + Int(length)
        let header: SafetensorsHeader
        do {
            header = try bytes.withUnsafeBufferPointer { all throws(SafetensorsHeader.Problem) in
                try SafetensorsHeader(UnsafeBufferPointer(rebasing: all[8..<dataStart]))
            }
        } catch {
            throw .corrupt(path: path, reason: "the header is not JSON of the safetensors form: \(error.reason)")
        }
        let dataLength = bytes.count - dataStart
        var result: [String: Tensor<S>] = [:]
        var unsupported: [String: String] = [:]
        var ranges: [(Int, Int, String)] = []
        for entry in header.entries {
            let name = entry.name
            let width: Int
            switch entry.dtype {
            case "F32": width = 4
            case "F64": width = 8
            default: width = 0
            }
            var count = 1
            for d in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataLength else {
                    throw .corrupt(path: path, reason: "tensor '\(name)' shape \(entry.shape) is larger than the file")
                }
                count = product
            }
            let (begin, end) = (entry.begin, entry.end)
            guard begin <= end, end <= dataLength else {
                throw .corrupt(path: path, reason: "tensor '\(name)' offsets [\(begin), \(end)] are outside the data (\(dataLength) bytes)")
            }
            if begin < end { ranges.append((begin, end, name)) }
            guard width > 0 else {
                unsupported[name] = entry.dtype
                continue
            }
            guard end - begin == count * width else {
                throw .corrupt(path: path, reason: "tensor '\(name)' offsets span \(end - begin) bytes, its shape \(entry.shape) needs \(count * width)")
            }
            let base = dataStart + begin
            result[name] = bytes.withUnsafeBytes { raw in
                Tensor<S>(shape: entry.shape) { out in
                    for i in 0..<count {
                        let at = base + i * width
                        out[i] = width == 4
                            ? S(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
                            : S(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                    }
                }
            }
        }
        ranges.sort { $0.0 < $1.0 }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.0 < a.1 {
            throw .corrupt(path: path, reason: "tensors '\(a.2)' and '\(b.2)' overlap")
        }
        return CheckpointContents(tensors: result, metadata: header.metadata, unsupported: unsupported)
    }

    /// Writes `tensors` to `path` atomically: a temporary file in the same folder, then a rename,
    /// so an interrupted save never leaves a half-written checkpoint behind.
    public static func save<S: TensorScalar>(
        _ tensors: [(name: String, tensor: Tensor<S>)], metadata: [String: String] = [:], to path: String
    ) throws(CheckpointError) {
        try AtomicFile.write(encode(tensors, metadata: metadata), to: path)
    }

    /// Reads every tensor (and the metadata) of a safetensors file: a regular file, read once.
    public static func read<S: TensorScalar>(from path: String) throws(CheckpointError) -> CheckpointContents<S> {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path)
        } catch {
            throw .io(path: path, reason: "cannot read: \(error)")
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
        try apply(try read(from: path) as CheckpointContents<S>, to: parameters, path: path)
    }

    /// Assigns the tensors of `contents` to `parameters` by name; all must be present, of a
    /// supported dtype, with the parameter's shape and finite values, before any is changed.
    public static func apply<S: TensorScalar>(
        _ contents: CheckpointContents<S>, to parameters: [(name: String, parameter: Variable<S>)], path: String
    ) throws(CheckpointError) {
        for (name, parameter) in parameters {
            try checkTensor(contents, name: name, shape: parameter.shape, holds: "weights", path: path)
        }
        for (name, parameter) in parameters { parameter.tape.assign(contents.tensors[name]!, to: parameter) }
    }

    /// Assigns the tensors of `contents` to a model's parameters and buffers
    /// (``Sequential/namedTensors``); nothing is changed unless all of them fit.
    public static func apply<S: TensorScalar>(
        _ contents: CheckpointContents<S>, to model: Sequential<S>, path: String
    ) throws(CheckpointError) {
        for (name, buffer) in model.namedBuffers {
            try checkTensor(contents, name: name, shape: buffer.value.shape, holds: "statistics", path: path)
        }
        try apply(contents, to: model.namedParameters, path: path)
        try apply(contents, toBuffers: model.namedBuffers, path: path)
    }

    /// Assigns the tensors of `contents` to a model's buffers (``BatchNorm``'s running
    /// statistics) by name, each present with the buffer's shape and finite before any is changed.
    public static func apply<S: TensorScalar>(
        _ contents: CheckpointContents<S>, toBuffers buffers: [(name: String, buffer: LayerBuffer<S>)], path: String
    ) throws(CheckpointError) {
        for (name, buffer) in buffers {
            try checkTensor(contents, name: name, shape: buffer.value.shape, holds: "statistics", path: path)
        }
        for (name, buffer) in buffers { buffer.value = contents.tensors[name]! }
    }

    /// Checks that `contents` holds a tensor `name` of a supported dtype, of `shape`, all finite;
    /// `holds` names what a model needs finite ("weights", "statistics").
    private static func checkTensor<S: TensorScalar>(
        _ contents: CheckpointContents<S>, name: String, shape: [Int], holds: String, path: String
    ) throws(CheckpointError) {
        guard let tensor = contents.tensors[name] else {
            if let dtype = contents.unsupported[name] {
                throw .incompatible(path: path, reason: "tensor '\(name)' has dtype \(dtype); F32 and F64 are supported")
            }
            throw .incompatible(path: path, reason: "no tensor named '\(name)'")
        }
        guard tensor.shape == shape else {
            throw .incompatible(path: path, reason: "'\(name)' has shape \(tensor.shape), the model needs \(shape)")
        }
        if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
            throw .incompatible(
                path: path, reason: "'\(name)' holds \(tensor.scalars[bad]) at element \(bad); a model needs finite \(holds)")
        }
    }

    /// Checks that `contents` holds a tensor of each expected name and shape, and nothing else
    /// (``checkNoStrayTensors(_:parameters:path:)``); `source` says what expects them in the
    /// messages ("the layers", "the metadata's sizes 784,16,10").
    public static func checkTensors<S: TensorScalar>(
        _ contents: CheckpointContents<S>, expected: [(name: String, shape: [Int])], source: String, path: String
    ) throws(CheckpointError) {
        for (name, shape) in expected {
            guard let tensor = contents.tensors[name] else {
                throw .incompatible(path: path, reason: "\(source) need a tensor '\(name)', which the file lacks"
                                    + (contents.unsupported[name].map { " in F32 or F64 (it is \($0))" } ?? ""))
            }
            guard tensor.shape == shape else {
                throw .incompatible(path: path, reason: "'\(name)' has shape \(tensor.shape), but \(source) need \(shape)")
            }
        }
        try checkNoStrayTensors(contents, parameters: expected.map(\.name), path: path)
    }

    /// Refuses a checkpoint holding a tensor that belongs to none of `parameters`, neither as a
    /// weight nor as optimizer state (`optimizer.first.NAME`, `optimizer.second.NAME`): a file
    /// of another architecture, or one edited by hand, is not loaded half.
    public static func checkNoStrayTensors<S: TensorScalar>(
        _ contents: CheckpointContents<S>, parameters: [String], path: String
    ) throws(CheckpointError) {
        let known = Set(parameters.flatMap { [$0, "optimizer.first.\($0)", "optimizer.second.\($0)"] })
        if let stray = (Array(contents.tensors.keys) + Array(contents.unsupported.keys)).sorted().first(where: { !known.contains($0) }) {
            throw .incompatible(path: path, reason: "tensor '\(stray)' belongs to no parameter of the model")
        }
    }

    /// The metadata entry `key` as a non-negative integer (0 when absent, as in a checkpoint
    /// written before training progress was recorded); an entry that is not one is refused.
    public static func count<S: TensorScalar>(_ key: String, in contents: CheckpointContents<S>, path: String) throws(CheckpointError) -> Int {
        guard let text = contents.metadata[key] else { return 0 }
        guard let value = Int(text), value >= 0 else {
            throw .incompatible(path: path, reason: "the metadata's '\(key)' is '\(text)', not a non-negative integer")
        }
        return value
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
    /// Tensors by name (those of dtype F32 or F64).
    public let tensors: [String: Tensor<S>]
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Tensors of other dtypes, by name: their dtype. Loading one into a model is an error.
    public let unsupported: [String: String]

    /// The contents with every tensor converted from another scalar type.
    public init<T: TensorScalar>(converting other: CheckpointContents<T>) {
        tensors = other.tensors.mapValues { $0.converted(to: S.self) }
        metadata = other.metadata
        unsupported = other.unsupported
    }

    init(tensors: [String: Tensor<S>], metadata: [String: String], unsupported: [String: String]) {
        (self.tensors, self.metadata, self.unsupported) = (tensors, metadata, unsupported)
    }
}

/// Writing a file so that readers see either the old or the whole new content.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside the target, flushes it, and renames it over
    /// the target. A symbolic link is followed (the link stays, its target is replaced); a FIFO,
    /// device or directory at `path` is refused, never replaced. Temporary files that killed
    /// processes left beside the target are removed first.
    public static func write(_ bytes: [UInt8], to path: String) throws(CheckpointError) {
        let target = try writableTarget(path)
        removeStaleTemporaries(beside: target)
        let temporary = URL(fileURLWithPath: temporaryPath(for: target))
        do {
            try Data(bytes).write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            // rename(2) replaces the target atomically within one file system.
            guard rename(temporary.path, target) == 0 else {
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

    /// Checks, before any work is done, that ``write(_:to:)`` could write `path`: its folder
    /// exists and is writable, `path` is absent, a regular file, or a link to one, its name is
    /// not too long for the file system, and the temporary file the write goes through can be
    /// created there (which a read-only file system or a full disk refuses); that file is
    /// removed again.
    public static func checkWritable(_ path: String) throws(CheckpointError) {
        let target = try writableTarget(path)
        let url = URL(fileURLWithPath: target)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .io(path: path, reason: "cannot write: the folder \(folder) does not exist")
        }
        guard access(folder, W_OK) == 0 else {
            throw .io(path: path, reason: "cannot write: the folder \(folder) is not writable")
        }
        let longestName = pathconf(folder, Int32(_PC_NAME_MAX))
        if longestName > 0 && url.lastPathComponent.utf8.count > longestName {
            throw .io(path: path, reason: "cannot write: the name is \(url.lastPathComponent.utf8.count) bytes long, more than the \(longestName) this file system allows")
        }
        let temporary = temporaryPath(for: target)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw .io(path: path, reason: "cannot write in \(folder): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(temporary)
    }

    /// `.NAME.PID.tmp` beside `target`, NAME cut to 200 bytes so that the temporary name fits
    /// wherever the target's does.
    static func temporaryPath(for target: String) -> String {
        let url = URL(fileURLWithPath: target)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(temporaryPrefix(url.lastPathComponent))\(ProcessInfo.processInfo.processIdentifier).tmp").path
    }

    /// `NAME.` with NAME cut to at most 200 bytes (on a character boundary).
    static func temporaryPrefix(_ name: String) -> String {
        var cut = Substring(name)
        while cut.utf8.count > 200 { cut = cut.dropLast() }
        return cut + "."
    }

    /// The file a write to `path` replaces: `path`, or what its symbolic link points to.
    static func writableTarget(_ path: String) throws(CheckpointError) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return path }
        var target = path
        if info.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw .io(path: path, reason: "cannot write: it is a symbolic link to a missing file")
            }
            target = String(cString: resolved)
            free(resolved)
            guard stat(target, &info) == 0 else { throw .io(path: path, reason: "cannot write: \(String(cString: strerror(errno)))") }
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .io(path: path, reason: "cannot write: it exists and is not a regular file (a FIFO, device or directory is never replaced)")
        }
        return target
    }

    /// Removes `.NAME.PID.tmp` files beside `target` whose process no longer runs.
    static func removeStaleTemporaries(beside target: String) {
        let url = URL(fileURLWithPath: target)
        let folder = url.deletingLastPathComponent().path
        let prefix = ".\(temporaryPrefix(url.lastPathComponent))"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let middle = name.dropFirst(prefix.count).dropLast(4)
            guard let pid = Int32(middle), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: folder + "/" + name)
            }
        }
    }
}
