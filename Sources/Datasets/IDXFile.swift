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
    /// rank, and dimensions against the real size of the data.
    public init(contentsOf path: String) throws(DatasetError) {
        let raw: [UInt8]
        do {
            raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(fileBytes: raw, path: path)
    }

    /// Parses the bytes of an IDX file (gzip-compressed or raw); `path` names it in errors.
    public init(fileBytes raw: [UInt8], path: String) throws(DatasetError) {
        var data = raw
        if Gzip.isCompressed(raw) {
            // Read the header first and inflate no more than it declares (plus one byte, to
            // notice trailing data): a corrupt or hostile stream cannot make us allocate more.
            let header = try Self.parseHeader(try Gzip.decompressedPrefix(raw, count: 4 + 4 * 4, path: path),
                                              path: path, available: nil)
            data = try Gzip.decompress(raw, limit: header.headerSize + header.total + 1, path: path)
        }
        let (dimensions, headerSize, total) = try Self.parseHeader(data, path: path, available: data.count)
        guard data.count == headerSize + total else {
            throw .sizeMismatch(path: path, expectedBytes: headerSize + total, actualBytes: data.count)
        }
        self.dimensions = dimensions
        self.bytes = Array(data[headerSize...])
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
