import Autodiff
import CZlib
import Foundation

/// A greyscale picture with values in [0, 1] (0 black, 1 white), decoded from PNG or PGM.
public struct GrayImage: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Row-major brightness in [0, 1].
    public let pixels: [Double]

    /// An image from its brightness values. - Precondition: `pixels.count == width * height`.
    public init(width: Int, height: Int, pixels: [Double]) {
        Failure.check(pixels.count == width * height, "GrayImage: \(pixels.count) pixels for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The most pixels a decoded image holds: 4,194,304 (2048×2048). A larger picture is
    /// averaged down by the smallest whole factor that fits while its rows are decoded (an
    /// 8192×8192 PNG is read as 2048×2048), so decoding and finding digits in any picture stay
    /// within about 300 MB.
    public static let pixelBudget = 1 << 22
    /// The largest image file read: 64 MiB.
    public static let fileLimit = 1 << 26

    /// Reads a PNG (8 or 16 bits, grey, grey+alpha, RGB, RGBA or palette, not interlaced) or a
    /// PGM (P2 or P5), at most ``fileLimit`` bytes and 65536 pixels on a side. Transparent
    /// pixels are composited over white paper; pictures of more than ``pixelBudget`` pixels
    /// are averaged down (see there).
    public init(contentsOf path: String) throws(DatasetError) {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: GrayImage.fileLimit)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        try self.init(fileBytes: bytes, path: path)
    }

    /// Decodes PNG or PGM bytes; `path` names the file in errors.
    public init(fileBytes bytes: [UInt8], path: String) throws(DatasetError) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = try PNGDecoder.decode(bytes, path: path)
        } else if bytes.starts(with: [0x50, 0x35]) || bytes.starts(with: [0x50, 0x32]) {
            self = try PGMDecoder.decode(bytes, path: path)
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            throw .badImage(path: path, reason: "JPEG is not supported; save the picture as PNG or PGM")
        } else {
            throw .badImage(path: path, reason: "neither PNG nor PGM (P2/P5) data")
        }
    }

    /// The image as PGM (P5) bytes, for writing test images.
    public func pgmBytes() -> [UInt8] {
        Array("P5\n\(width) \(height)\n255\n".utf8) + pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
    }
}

enum PGMDecoder {
    static func decode(_ bytes: [UInt8], path: String) throws(DatasetError) -> GrayImage {
        var position = 2
        func token() throws(DatasetError) -> Int {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 0x0A { position += 1 }
                } else if [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
                    position += 1
                } else {
                    break
                }
            }
            var value = 0
            var digits = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - 0x30)
                digits += 1
                position += 1
                guard value <= 1 << 24 else { throw .badImage(path: path, reason: "header number too large") }
            }
            guard digits > 0 else { throw .badImage(path: path, reason: "malformed PGM header") }
            return value
        }
        let binary = bytes[1] == 0x35
        let width = try token(), height = try token(), maxValue = try token()
        guard width > 0, height > 0, width * height <= 1 << 26 else {
            throw .badImage(path: path, reason: "unreasonable size \(width)×\(height)")
        }
        guard (1...65535).contains(maxValue) else { throw .badImage(path: path, reason: "maximum value \(maxValue) outside 1...65535") }
        let count = width * height
        // The data must be there before the pixels are allocated: a 25-byte file may declare
        // millions of them.
        let sampleBytes = binary ? (maxValue > 255 ? 2 : 1) : 1
        guard bytes.count - position - (binary ? 1 : 0) >= count * sampleBytes else {
            throw .badImage(path: path, reason: "pixel data is truncated: \(max(0, bytes.count - position)) bytes for \(count) pixels")
        }
        var output = ImageDownsampler(width: width, height: height)
        if binary {
            position += 1  // the single whitespace after maxval
            for y in 0..<height {
                try output.add(row: y) { x in
                    let i = y * width + x
                    let v = sampleBytes == 1 ? Int(bytes[position + i]) : Int(bytes[position + 2 * i]) << 8 | Int(bytes[position + 2 * i + 1])
                    return Double(min(v, maxValue)) / Double(maxValue)
                }
            }
        } else {
            for y in 0..<height {
                try output.add(row: y) { x throws(DatasetError) in
                    do {
                        return Double(min(try token(), maxValue)) / Double(maxValue)
                    } catch {
                        throw .badImage(path: path, reason: "pixel data is truncated at pixel \(y * width + x) of \(count)")
                    }
                }
            }
        }
        return output.image()
    }
}

enum PNGDecoder {
    static func decode(_ bytes: [UInt8], path: String) throws(DatasetError) -> GrayImage {
        func bigEndian(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        var position = 8
        var header: (width: Int, height: Int, depth: Int, color: Int, interlace: Int)?
        var palette: [UInt8] = []
        var compressed: [UInt8] = []
        var ended = false
        while position + 8 <= bytes.count {
            let length = bigEndian(position)
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            let start = position + 8
            guard length >= 0, start + length + 4 <= bytes.count else {
                throw .badImage(path: path, reason: "chunk \(type) of \(length) bytes runs past the end of the file (truncated)")
            }
            let data = bytes[start..<(start + length)]
            let stored = UInt32(truncatingIfNeeded: bigEndian(start + length))
            let computed = bytes.withUnsafeBufferPointer { p in
                UInt32(truncatingIfNeeded: crc32(0, p.baseAddress! + position + 4, UInt32(length + 4)))
            }
            guard stored == computed else {
                throw .badImage(path: path, reason: String(format: "chunk %@ fails its CRC check (stored %08x, computed %08x): the file is damaged", type, stored, computed))
            }
            switch type {
            case "IHDR":
                guard length == 13 else { throw .badImage(path: path, reason: "IHDR has \(length) bytes, expected 13") }
                header = (bigEndian(start), bigEndian(start + 4), Int(bytes[start + 8]), Int(bytes[start + 9]), Int(bytes[start + 12]))
            case "PLTE": palette = Array(data)
            case "IDAT": compressed.append(contentsOf: data)
            case "IEND": ended = true
            default: break
            }
            position = start + length + 4
            if ended { break }
        }
        guard let header else { throw .badImage(path: path, reason: "no IHDR chunk") }
        guard ended else { throw .badImage(path: path, reason: "no IEND chunk (truncated file)") }
        let (width, height, depth, color, interlace) = header
        // At most 64 M pixels: the header alone then bounds what inflating may allocate.
        guard width > 0, height > 0, width <= 65536, height <= 65536, width * height <= 1 << 26 else {
            throw .badImage(path: path, reason: "unreasonable size \(width)×\(height)")
        }
        guard interlace == 0 else { throw .badImage(path: path, reason: "interlaced PNG is not supported") }
        let channels: Int
        switch color {
        case 0: channels = 1
        case 2: channels = 3
        case 3: channels = 1
        case 4: channels = 2
        case 6: channels = 4
        default: throw .badImage(path: path, reason: "colour type \(color) is not valid PNG")
        }
        guard depth == 8 || depth == 16 else {
            throw .badImage(path: path, reason: "bit depth \(depth) is not supported (8 or 16)")
        }
        guard color != 3 || (depth == 8 && !palette.isEmpty) else { throw .badImage(path: path, reason: "palette image without a palette") }
        let bytesPerPixel = channels * depth / 8
        let stride = width * bytesPerPixel
        let expected = height * (stride + 1)
        // Row by row as zlib produces them: the filters need only the previous row, and each
        // finished row goes straight into the (possibly averaged-down) output.
        var output = ImageDownsampler(width: width, height: height)
        var (row, previous) = ([UInt8](repeating: 0, count: stride), [UInt8](repeating: 0, count: stride))
        var filled = -1  // bytes of the current row so far; -1 before its filter byte
        var filter: UInt8 = 0
        var y = 0
        var failure: DatasetError?
        let maximum = depth == 16 ? 65535.0 : 255.0
        func finishRow() throws(DatasetError) {
            for x in 0..<stride {
                let left = x >= bytesPerPixel ? Int(row[x - bytesPerPixel]) : 0
                let up = y > 0 ? Int(previous[x]) : 0
                let upLeft = (y > 0 && x >= bytesPerPixel) ? Int(previous[x - bytesPerPixel]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = (left + up) / 2
                case 4:
                    let p = left + up - upLeft
                    let (pa, pb, pc) = (abs(p - left), abs(p - up), abs(p - upLeft))
                    predictor = pa <= pb && pa <= pc ? left : (pb <= pc ? up : upLeft)
                default: throw .badImage(path: path, reason: "unknown filter \(filter) on row \(y)")
                }
                row[x] = UInt8(truncatingIfNeeded: Int(row[x]) + predictor)
            }
            try output.add(row: y) { x throws(DatasetError) in
                func sample(_ c: Int) -> Double {
                    let o = x * bytesPerPixel + c * depth / 8
                    return depth == 16 ? Double(Int(row[o]) << 8 | Int(row[o + 1])) / maximum : Double(row[o]) / maximum
                }
                var gray: Double
                var alpha = 1.0
                switch color {
                case 0: gray = sample(0)
                case 4: gray = sample(0); alpha = sample(1)
                case 2: gray = 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2)
                case 6: gray = 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2); alpha = sample(3)
                default:
                    let index = Int(row[x]) * 3
                    guard index + 2 < palette.count else { throw .badImage(path: path, reason: "palette index \(row[x]) out of range") }
                    gray = (0.299 * Double(palette[index]) + 0.587 * Double(palette[index + 1]) + 0.114 * Double(palette[index + 2])) / 255
                }
                return alpha * gray + (1 - alpha)
            }
            swap(&row, &previous)
            (filled, y) = (-1, y + 1)
        }
        do throws(DatasetError) {
            try Gzip.decompress(compressed, skipping: 0, count: expected, path: path) { chunk, _ in
                var i = 0
                while i < chunk.count && failure == nil {
                    if filled < 0 {
                        (filter, filled, i) = (chunk[i], 0, i + 1)
                        continue
                    }
                    let take = Swift.min(stride - filled, chunk.count - i)
                    for k in 0..<take { row[filled + k] = chunk[i + k] }
                    (filled, i) = (filled + take, i + take)
                    if filled == stride {
                        do throws(DatasetError) { try finishRow() } catch { failure = error }
                    }
                }
            }
        } catch {
            if case let .sizeMismatch(_, _, actual) = error {
                throw .badImage(path: path, reason: "image data holds \(actual) bytes, \(width)×\(height) needs \(expected)")
            }
            throw error
        }
        if let failure { throw failure }
        return output.image()
    }
}
