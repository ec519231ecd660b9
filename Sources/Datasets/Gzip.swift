import Autodiff
import CZlib
import Foundation

/// gzip decompression through the system zlib.
public enum Gzip {
    /// Whether `data` starts with the gzip magic bytes 1f 8b.
    public static func isCompressed(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B
    }

    /// Inflates a whole gzip stream (several members are concatenated, as gzip does).
    /// Output beyond `limit` bytes is an error rather than an allocation, so a hostile file
    /// cannot make us allocate without bound. `path` only names the file in errors.
    public static func decompress(_ input: [UInt8], limit: Int, path: String) throws(DatasetError) -> [UInt8] {
        try inflateStream(input, limit: limit, prefixOnly: false, path: path)
    }

    /// The first `count` bytes of the decompressed stream (fewer if it is shorter), without
    /// inflating the rest: enough to read a header before deciding how much to expect.
    public static func decompressedPrefix(_ input: [UInt8], count: Int, path: String) throws(DatasetError) -> [UInt8] {
        try inflateStream(input, limit: count, prefixOnly: true, path: path)
    }

    /// Inflates a whole gzip stream straight into `buffer`, after discarding its first `skip`
    /// bytes (a header already read): no copy of the whole stream, so decoding needs no more
    /// memory than the result. The stream must produce exactly `skip + buffer.count` bytes.
    public static func decompress(
        _ input: [UInt8], skipping skip: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, path: String
    ) throws(DatasetError) {
        try decompress(input, skipping: skip, count: buffer.count, path: path) { chunk, offset in
            (buffer.baseAddress! + offset).update(from: chunk.baseAddress!, count: chunk.count)
        }
    }

    /// Inflates a whole gzip stream, discards its first `skip` bytes and hands the next
    /// `count` to `consume` a piece at a time (each with its offset), through one 64 KB buffer:
    /// a consumer that converts as it goes (bytes to Float features) never holds the bytes.
    /// The stream must produce exactly `skip + count` bytes.
    public static func decompress(
        _ input: [UInt8], skipping skip: Int, count: Int, path: String,
        consume: (_ chunk: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Void
    ) throws(DatasetError) {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corruptGzip(path: path, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        let expected = skip + count
        var produced = 0
        var failure: DatasetError?
        var staging = [UInt8](repeating: 0, count: 1 << 16)
        input.withUnsafeBufferPointer { source in
            staging.withUnsafeMutableBufferPointer { buffer in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = UInt32(source.count)
                while failure == nil {
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    let written = buffer.count - Int(stream.avail_out)
                    if produced + written > expected {
                        failure = .corruptGzip(path: path, reason: "decompresses to more than the \(expected) bytes its header declares")
                        return
                    }
                    // The part of this piece past the skipped header.
                    let from = max(skip - produced, 0)
                    if written > from {
                        consume(UnsafeBufferPointer(rebasing: buffer[from..<written]), produced + from - skip)
                    }
                    produced += written
                    switch status {
                    case Z_STREAM_END:
                        if stream.avail_in >= 2 && stream.next_in[0] == 0x1F && stream.next_in[1] == 0x8B {
                            inflateReset(&stream)
                            continue
                        }
                        if stream.avail_in != 0 {
                            failure = .corruptGzip(path: path, reason: "\(stream.avail_in) bytes of garbage after the stream")
                        } else if produced < expected {
                            failure = .sizeMismatch(path: path, expectedBytes: expected, actualBytes: produced)
                        }
                        return
                    case Z_OK:
                        if stream.avail_in == 0 && written == 0 {
                            failure = .corruptGzip(path: path, reason: "the stream ends early (truncated file)")
                        }
                    case Z_BUF_ERROR:
                        // No progress with room to write: the input ran out.
                        failure = .corruptGzip(path: path, reason: "the stream ends early (truncated file)")
                    default:
                        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                        failure = .corruptGzip(path: path, reason: message)
                    }
                }
            }
        }
        if let failure { throw failure }
    }

    static func inflateStream(_ input: [UInt8], limit: Int, prefixOnly: Bool, path: String) throws(DatasetError) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(min(limit, max(input.count * 4, 1 << 16)))
        var stream = z_stream()
        // 15 + 32: accept zlib or gzip headers, largest window.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corruptGzip(path: path, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: prefixOnly ? max(limit, 1) : 1 << 16)
        var failure: DatasetError?
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if prefixOnly && output.count + produced >= limit {
                    output.append(contentsOf: chunk[0..<(limit - output.count)])
                    return
                }
                if output.count + produced > limit {
                    failure = .corruptGzip(path: path, reason: "decompresses to more than \(limit) bytes")
                    return
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // Another gzip member may follow; anything else after the end is garbage.
                    if stream.avail_in == 0 { return }
                    if stream.avail_in >= 2 && stream.next_in[0] == 0x1F && stream.next_in[1] == 0x8B {
                        inflateReset(&stream)
                        continue
                    }
                    failure = .corruptGzip(path: path, reason: "\(stream.avail_in) bytes of garbage after the stream")
                    return
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 {
                        failure = .corruptGzip(path: path, reason: "the stream ends early (truncated file)")
                        return
                    }
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 {
                        failure = .corruptGzip(path: path, reason: "the stream ends early (truncated file)")
                        return
                    }
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    failure = .corruptGzip(path: path, reason: message)
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Compresses `input` as one gzip member (level 6), e.g. to write IDX files.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: gzip header and trailer instead of zlib's.
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { Failure.stop("zlib deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let produced = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target -> Int in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                let status = deflate(&stream, Z_FINISH)
                Failure.check(status == Z_STREAM_END, "zlib deflate did not finish (\(status))")
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }
}
