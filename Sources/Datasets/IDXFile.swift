import Autodiff
import Foundation

/// An array read from an IDX file (the MNIST format): big-endian header with a magic number
/// `00 00 TT RR` (TT = element type, RR = rank), RR big-endian UInt32 dimensions, then the
/// elements row-major. Only unsigned bytes (TT = 0x08) are supported, as MNIST uses.
public struct IDXFile: Sendable {
    /// The dimensions from the header, e.g. [60000, 28, 28].
    public let dimensions: [Int]
    /// The elements, row-major; `dimensions` multiplied out gives their count.
    public let bytes: [UInt8]

    /// Reads an IDX file, gzip-compressed or raw, and validates it: magic number, element type,
    /// rank, and dimensions against the real size of the data. The elements go straight into
    /// their final array (no copy of the file, nor of the inflated stream), and a header that
    /// declares more than this machine's memory is refused before anything is allocated.
    public init(contentsOf path: String) throws(DatasetError) {
        self = try Self.load(path)
    }

    init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }

    static func load(_ path: String) throws(DatasetError) -> IDXFile {
        let raw: [UInt8]
        do {
            // A compressed file needs its bytes in memory; a raw one only its header first.
            let size = try RegularFile.size(path)
            let head = try Self.prefix(path, count: min(size, 4 + 4 * 4))
            if Gzip.isCompressed(head) {
                raw = try RegularFile.read(path)
            } else {
                let header = try Self.parseHeader(head, path: path, available: size)
                try Self.checkMemory(header.total, path: path)
                guard size == header.headerSize + header.total else {
                    throw DatasetError.sizeMismatch(path: path, expectedBytes: header.headerSize + header.total, actualBytes: size)
                }
                return IDXFile(dimensions: header.dimensions, bytes: try Self.read(path, from: header.headerSize, count: header.total))
            }
        } catch let error as DatasetError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        return try IDXFile(fileBytes: raw, path: path)
    }

    /// Parses the bytes of an IDX file (gzip-compressed or raw); `path` names it in errors.
    public init(fileBytes raw: [UInt8], path: String) throws(DatasetError) {
        self = try Self.parse(raw, path: path)
    }

    static func parse(_ raw: [UInt8], path: String) throws(DatasetError) -> IDXFile {
        if Gzip.isCompressed(raw) {
            // Read the header first, then inflate the elements straight into their array, no
            // more than the header declares: a hostile stream cannot make us allocate more.
            let header = try Self.parseHeader(try Gzip.decompressedPrefix(raw, count: 4 + 4 * 4, path: path),
                                              path: path, available: nil)
            try Self.checkMemory(header.total, path: path)
            var failure: DatasetError?
            let elements = [UInt8](unsafeUninitializedCapacity: header.total) { buffer, initialized in
                do {
                    try Gzip.decompress(raw, skipping: header.headerSize, into: buffer, path: path)
                    initialized = header.total
                } catch let error as DatasetError {
                    failure = error
                } catch {}
            }
            if let failure {
                if case let .sizeMismatch(_, expected, actual) = failure {
                    throw .sizeMismatch(path: path, expectedBytes: expected, actualBytes: actual)
                }
                throw failure
            }
            return IDXFile(dimensions: header.dimensions, bytes: elements)
        }
        let (dimensions, headerSize, total) = try Self.parseHeader(raw, path: path, available: raw.count)
        guard raw.count == headerSize + total else {
            throw .sizeMismatch(path: path, expectedBytes: headerSize + total, actualBytes: raw.count)
        }
        return IDXFile(dimensions: dimensions, bytes: Array(raw[headerSize...]))
    }

    /// The elements of an IDX file scaled to features, x / 255, as a `[count, elements per
    /// item]` tensor, decoded straight into it (a gzip stream or the raw file through one small
    /// buffer), so the peak memory is the features alone. `check` sees the dimensions before
    /// anything is allocated and may refuse them.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func features<S: TensorScalar>(
        contentsOf path: String, check: ([Int]) throws(DatasetError) -> Void
    ) throws(DatasetError) -> Tensor<S> {
        let size: Int
        let head: [UInt8]
        do {
            size = try RegularFile.size(path)
            head = try prefix(path, count: min(size, 4 + 4 * 4))
        } catch let error as DatasetError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        let compressed = Gzip.isCompressed(head)
        var raw: [UInt8] = []
        if compressed {
            do { raw = try RegularFile.read(path) } catch { throw .unreadable(path: path, reason: "\(error)") }
        }
        let header = try parseHeader(compressed ? try Gzip.decompressedPrefix(raw, count: 4 + 4 * 4, path: path) : head,
                                     path: path, available: compressed ? nil : size)
        try check(header.dimensions)
        try checkMemory(header.total, path: path, bytesPerElement: MemoryLayout<S>.size)
        if !compressed && size != header.headerSize + header.total {
            throw .sizeMismatch(path: path, expectedBytes: header.headerSize + header.total, actualBytes: size)
        }
        let items = header.dimensions[0]
        let shape = [items, items == 0 ? 0 : header.total / items]
        let scale = 1 / S(255)
        var failure: DatasetError?
        let features = Tensor<S>(shape: shape) { out in
            let convert = { (chunk: UnsafeBufferPointer<UInt8>, offset: Int) in
                let target = out.baseAddress! + offset
                for i in 0..<chunk.count { target[i] = S(chunk[i]) * scale }
            }
            do {
                if compressed {
                    try Gzip.decompress(raw, skipping: header.headerSize, count: header.total, path: path, consume: convert)
                } else {
                    try readChunks(path, from: header.headerSize, count: header.total, consume: convert)
                }
            } catch let error as DatasetError {
                failure = error
            } catch {}
        }
        if let failure {
            if case let .sizeMismatch(_, expected, actual) = failure {
                throw .sizeMismatch(path: path, expectedBytes: expected, actualBytes: actual)
            }
            throw failure
        }
        return features
    }

    /// `count` bytes of the file from `offset`, handed to `consume` a megabyte at a time.
    static func readChunks(
        _ path: String, from offset: Int, count: Int, consume: (UnsafeBufferPointer<UInt8>, Int) -> Void
    ) throws(DatasetError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 20)
        defer { buffer.deallocate() }
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer.baseAddress!, min(buffer.count, count - done), off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw .unreadable(path: path, reason: n == 0 ? "the file ended early" : String(cString: strerror(errno)))
            }
            consume(UnsafeBufferPointer(rebasing: buffer[0..<n]), done)
            done += n
        }
    }

    /// Refuses element counts this machine cannot hold (with room for a Float copy of them).
    static func checkMemory(_ total: Int, path: String, bytesPerElement: Int = 1) throws(DatasetError) {
        let memory = ProcessInfo.processInfo.physicalMemory
        guard UInt64(total) * UInt64(bytesPerElement) <= memory / 2 else {
            throw .badHeader(path: path, reason: "the header declares \(total) elements, \(UInt64(total) * UInt64(bytesPerElement) >> 20) MiB in memory, more than half of this machine's \(memory >> 20) MiB")
        }
    }

    /// The first `count` bytes of the file at `path`.
    static func prefix(_ path: String, count: Int) throws -> [UInt8] {
        try read(path, from: 0, count: count)
    }

    /// `count` bytes of the file at `path` from `offset`, read straight into the array.
    static func read(_ path: String, from offset: Int, count: Int) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var failure: DatasetError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while initialized < count {
                let n = pread(descriptor, buffer.baseAddress! + initialized, count - initialized, off_t(offset + initialized))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = .unreadable(path: path, reason: n == 0 ? "the file ended early" : String(cString: strerror(errno)))
                    return
                }
                initialized += n
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// The dimensions, header size and element count from the start of an IDX file; `available`
    /// (the whole file's size, when known) is checked to hold at least the header.
    static func parseHeader(_ data: [UInt8], path: String, available: Int?) throws(DatasetError)
        -> (dimensions: [Int], headerSize: Int, total: Int)
    {
        guard data.count >= 4 else { throw .badHeader(path: path, reason: "only \(data.count) bytes, no header") }
        guard data[0] == 0, data[1] == 0 else {
            throw .badHeader(path: path, reason: String(format: "magic number starts %02x %02x, expected 00 00", data[0], data[1]))
        }
        guard data[2] == 0x08 else {
            throw .badHeader(path: path, reason: String(format: "element type 0x%02x, only unsigned bytes (0x08) are supported", data[2]))
        }
        let rank = Int(data[3])
        guard (1...4).contains(rank) else { throw .badHeader(path: path, reason: "rank \(rank), expected 1 to 4") }
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw .sizeMismatch(path: path, expectedBytes: headerSize, actualBytes: available ?? data.count)
        }
        var dimensions: [Int] = []
        var total = 1
        for axis in 0..<rank {
            let o = 4 + 4 * axis
            let d = Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
            dimensions.append(d)
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int(Int32.max) else {
                throw .badHeader(path: path, reason: "dimensions \(dimensions) describe more than 2 GiB")
            }
            total = product
        }
        return (dimensions, headerSize, total)
    }
}
