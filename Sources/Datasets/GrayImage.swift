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

    /// Reads a PNG (8 or 16 bits, grey, grey+alpha, RGB, RGBA or palette, not interlaced) or a
    /// PGM (P2 or P5). Transparent pixels are composited over white paper.
    public init(contentsOf path: String) throws(DatasetError) {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: 1 << 28)
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
        var pixels = [Double](repeating: 0, count: count)
        if binary {
            position += 1  // the single whitespace after maxval
            for i in 0..<count {
                let v = sampleBytes == 1 ? Int(bytes[position + i]) : Int(bytes[position + 2 * i]) << 8 | Int(bytes[position + 2 * i + 1])
                pixels[i] = Double(min(v, maxValue)) / Double(maxValue)
            }
        } else {
            for i in 0..<count {
                do {
                    pixels[i] = Double(min(try token(), maxValue)) / Double(maxValue)
                } catch {
                    throw .badImage(path: path, reason: "pixel data is truncated at pixel \(i) of \(count)")
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: pixels)
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
        let raw = try Gzip.decompress(compressed, limit: expected, path: path)
        guard raw.count == expected else {
            throw .badImage(path: path, reason: "image data holds \(raw.count) bytes, \(width)×\(height) needs \(expected)")
        }
        var rows = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let source = y * (stride + 1) + 1
            for x in 0..<stride {
                let value = raw[source + x]
                let left = x >= bytesPerPixel ? Int(rows[y * stride + x - bytesPerPixel]) : 0
                let up = y > 0 ? Int(rows[(y - 1) * stride + x]) : 0
                let upLeft = (y > 0 && x >= bytesPerPixel) ? Int(rows[(y - 1) * stride + x - bytesPerPixel]) : 0
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
                rows[y * stride + x] = UInt8(truncatingIfNeeded: Int(value) + predictor)
            }
        }
        var pixels = [Double](repeating: 1, count: width * height)
        let maximum = depth == 16 ? 65535.0 : 255.0
        for i in 0..<(width * height) {
            func sample(_ c: Int) -> Double {
                let o = i * bytesPerPixel + c * depth / 8
                return depth == 16 ? Double(Int(rows[o]) << 8 | Int(rows[o + 1])) / maximum : Double(rows[o]) / maximum
            }
            var gray: Double
            var alpha = 1.0
            switch color {
            case 0: gray = sample(0)
            case 4: gray = sample(0); alpha = sample(1)
            case 2: gray = 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2)
            case 6: gray = 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2); alpha = sample(3)
            default:
                let index = Int(rows[i]) * 3
                guard index + 2 < palette.count else { throw .badImage(path: path, reason: "palette index \(rows[i]) out of range") }
                gray = (0.299 * Double(palette[index]) + 0.587 * Double(palette[index + 1]) + 0.114 * Double(palette[index + 2])) / 255
            }
            pixels[i] = alpha * gray + (1 - alpha)
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }
}
