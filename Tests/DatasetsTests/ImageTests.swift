import CZlib
import Autodiff
import Datasets
import Foundation
import Testing

/// A PNG file built by hand: IHDR, one IDAT with `rows` (each already prefixed by its filter
/// byte) compressed by zlib, IEND.
func pngBytes(width: Int, height: Int, colorType: UInt8, rows: [UInt8], interlace: UInt8 = 0, end: Bool = true) -> [UInt8] {
    func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        return be(data.count) + body + be(Int(crc))
    }
    var compressed = [UInt8](repeating: 0, count: rows.count + 64)
    var length = UInt(compressed.count)
    _ = compress(&compressed, &length, rows, UInt(rows.count))
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    bytes += chunk("IHDR", be(width) + be(height) + [8, colorType, 0, 0, interlace])
    bytes += chunk("IDAT", Array(compressed.prefix(Int(length))))
    if end { bytes += chunk("IEND", []) }
    return bytes
}

@Suite("PNG and PGM pictures, digit extraction")
struct ImageTests {
    @Test("PGM P5 and P2 decode to the same brightness")
    func pgm() throws {
        let binary = try GrayImage(fileBytes: Array("P5\n# comment\n3 1\n255\n".utf8) + [0, 128, 255], path: "a.pgm")
        let ascii = try GrayImage(fileBytes: Array("P2 3 1 255\n0 128 255\n".utf8), path: "a.pgm")
        #expect(binary == ascii)
        #expect(binary.pixels == [0, 128.0 / 255, 1])
        expectError("truncated") { _ = try GrayImage(fileBytes: Array("P5\n3 2\n255\n".utf8) + [1, 2], path: "a.pgm") }
    }

    @Test("PNG grey with None and Up filters, and RGBA composited over white")
    func png() throws {
        // Row 0 raw [10, 20]; row 1 [30, 50] stored with the Up filter as differences [20, 30].
        let gray = try GrayImage(fileBytes: pngBytes(width: 2, height: 2, colorType: 0, rows: [0, 10, 20, 2, 20, 30]), path: "g.png")
        #expect(gray.pixels == [10, 20, 30, 50].map { $0 / 255.0 })
        // One opaque black pixel and one fully transparent one (reads as white paper).
        let rgba = try GrayImage(fileBytes: pngBytes(width: 2, height: 1, colorType: 6, rows: [0, 0, 0, 0, 255, 9, 9, 9, 0]), path: "c.png")
        #expect(rgba.pixels == [0, 1])
    }

    @Test("broken PNGs are errors naming the file and the problem")
    func brokenPNG() {
        let good = pngBytes(width: 2, height: 2, colorType: 0, rows: [0, 10, 20, 0, 30, 40])
        expectError("x.png: cannot decode image: no IEND chunk (truncated file)") { _ = try GrayImage(fileBytes: Array(good.prefix(40)), path: "x.png") }
        expectError("unknown filter 7") { _ = try GrayImage(fileBytes: pngBytes(width: 2, height: 2, colorType: 0, rows: [7, 1, 2, 0, 3, 4]), path: "x.png") }
        expectError("interlaced") { _ = try GrayImage(fileBytes: pngBytes(width: 2, height: 2, colorType: 0, rows: [0, 1, 2, 0, 3, 4], interlace: 1), path: "x.png") }
        expectError("no IEND") { _ = try GrayImage(fileBytes: pngBytes(width: 2, height: 2, colorType: 0, rows: [0, 1, 2, 0, 3, 4], end: false), path: "x.png") }
        expectError("image data holds") { _ = try GrayImage(fileBytes: pngBytes(width: 3, height: 2, colorType: 0, rows: [0, 1, 2, 0, 3, 4]), path: "x.png") }
        expectError("neither PNG nor PGM") { _ = try GrayImage(fileBytes: [1, 2, 3], path: "x.jpg") }
    }

    @Test("digits drawn from MNIST, dark on light and enlarged, come back close to the originals")
    func extraction() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Data/mnist").path
        let test = try MNIST<Double>.load(images: directory + "/t10k-images-idx3-ubyte.gz", labels: directory + "/t10k-labels-idx1-ubyte.gz")
        let picked = [0, 1, 2, 3]
        let originals = picked.map { i in Array(test.features.scalars[(i * 784)..<((i + 1) * 784)]) }
        func cosine(_ a: [Double], _ b: [Double]) -> Double {
            zip(a, b).map(*).reduce(0, +) / (a.map { $0 * $0 }.reduce(0, +) * b.map { $0 * $0 }.reduce(0, +)).squareRoot()
        }
        // Tiles 28 high: each normalised like a segmented digit; MNIST's are normalised already.
        let tiles = GrayImage(width: 28 * picked.count, height: 28, pixels: (0..<(28 * 28 * picked.count)).map { p in
            originals[(p % (28 * picked.count)) / 28][(p / (28 * picked.count)) * 28 + p % 28]
        })
        let fromTiles = DigitExtraction.digits(in: tiles)
        #expect(fromTiles.count == picked.count)
        for (digit, original) in zip(fromTiles, originals) {
            #expect(cosine(digit, original) > 0.9, "a tile should come back close to its digit, cosine \(cosine(digit, original))")
        }
        // A tile drawn small and off-centre is normalised to MNIST's size and centre.
        var small = [Double](repeating: 0, count: 784)
        for y in 0..<14 { for x in 0..<14 { small[(y + 1) * 28 + x + 13] = originals[0][(2 * y) * 28 + 2 * x] } }
        // (Half-size and back loses detail; unnormalised, the tile would match at about 0.1.)
        #expect(cosine(small, originals[0]) < 0.3)
        #expect(cosine(DigitExtraction.digits(in: GrayImage(width: 28, height: 28, pixels: small))[0], originals[0]) > 0.7)
        // Enlarged 2×, inverted to dark ink on white paper, with a margin: segmented and rescaled.
        let (width, height) = (56 * picked.count + 20, 76)
        var paper = [Double](repeating: 1, count: width * height)
        for y in 0..<56 { for x in 0..<(56 * picked.count) {
            paper[(y + 10) * width + x + 10] = 1 - originals[x / 56][(y / 2) * 28 + (x % 56) / 2]
        } }
        let decoded = try GrayImage(fileBytes: GrayImage(width: width, height: height, pixels: paper).pgmBytes(), path: "paper.pgm")
        let digits = DigitExtraction.digits(in: decoded)
        #expect(digits.count == picked.count)
        for (digit, original) in zip(digits, originals) {
            let dot = zip(digit, original).map(*).reduce(0, +)
            let norms = (digit.map { $0 * $0 }.reduce(0, +) * original.map { $0 * $0 }.reduce(0, +)).squareRoot()
            #expect(dot / norms > 0.85, "extracted digit should correlate with the original, cosine \(dot / norms)")
        }
        // The same paper lit unevenly (bright on the left, half as bright on the right), and with
        // the digits pushed together until they touch.
        let lit = GrayImage(width: width, height: height, pixels: paper.indices.map { i in
            paper[i] * (1 - 0.55 * Double(i % width) / Double(width))
        })
        let litDigits = DigitExtraction.digits(in: lit)
        #expect(litDigits.count == picked.count, "uneven lighting: expected \(picked.count) digits, got \(litDigits.count)")
        for (digit, original) in zip(litDigits, originals) { #expect(cosine(digit, original) > 0.75, "lit unevenly: cosine \(cosine(digit, original))") }
        let step = 40
        let touchingWidth = step * picked.count + 40
        var touching = [Double](repeating: 1, count: touchingWidth * height)
        for (k, original) in originals.enumerated() {
            for y in 0..<56 { for x in 0..<56 where original[(y / 2) * 28 + x / 2] > 0 {
                let i = (y + 10) * touchingWidth + 10 + k * step + x
                touching[i] = min(touching[i], 1 - original[(y / 2) * 28 + x / 2])
            } }
        }
        let touchingDigits = DigitExtraction.digits(in: GrayImage(width: touchingWidth, height: height, pixels: touching))
        #expect(touchingDigits.count == picked.count, "touching digits: expected \(picked.count), got \(touchingDigits.count)")
    }
}

@Suite("Huge pictures are averaged down while they are decoded")
struct HugePictureTests {
    /// (8192² as the issue reported it runs in CI's hostile cases on the release build, within 300 MB.)
    @Test("a PNG declaring 4100×2100 decodes to at most the pixel budget, by a whole factor")
    func hugePNG() throws {
        let (width, height) = (4100, 2100)
        let row = [UInt8(0)] + [UInt8](repeating: 200, count: width)
        let image = try GrayImage(fileBytes: pngBytes(width: width, height: height, colorType: 0,
                                                     rows: Array([[UInt8]](repeating: row, count: height).joined())),
                                  path: "huge.png")
        #expect(image.width == 2050 && image.height == 1050, "by 2: expected 2050×1050, got \(image.width)×\(image.height)")
        #expect(image.width * image.height <= GrayImage.pixelBudget)
        #expect(image.pixels.allSatisfy { Swift.abs($0 - 200.0 / 255) < 1e-12 })
    }

    @Test("each output pixel is the mean of its box, the edge boxes smaller")
    func boxAverages() throws {
        // 2049 × 2049 is just over the budget: factor 2, output 1025 × 1025 with 1-pixel edge boxes.
        let side = 2049
        let pixels = (0..<(side * side)).map { UInt8(($0 % side + $0 / side) % 2 == 0 ? 255 : 0) }
        let image = try GrayImage(fileBytes: Array("P5\n\(side) \(side)\n255\n".utf8) + pixels, path: "checker.pgm")
        #expect(image.width == 1025 && image.height == 1025)
        #expect(image.pixels[0] == 0.5, "a 2×2 box of a checkerboard: 0.5, got \(image.pixels[0])")
        #expect(image.pixels[1024] == 0.5 && image.pixels[1024 * 1025] == 0.5, "edge boxes of 1×2 average their two")
        #expect(image.pixels[1025 * 1025 - 1] == 1, "the corner box holds one white pixel")
    }

    @Test("a picture within the budget is decoded as it is")
    func smallUnchanged() throws {
        let image = try GrayImage(fileBytes: Array("P5\n3 1\n255\n".utf8) + [0, 51, 255], path: "small.pgm")
        #expect(image.width == 3 && image.pixels == [0, 0.2, 1])
    }
}
