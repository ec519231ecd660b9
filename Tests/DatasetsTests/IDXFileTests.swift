import Autodiff
import Datasets
import Foundation
import Testing

/// The bytes of an IDX file of unsigned bytes with the given dimensions.
func idxBytes(_ dimensions: [Int], _ body: [UInt8], magicType: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, magicType, UInt8(dimensions.count)]
    for d in dimensions { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    return bytes + body
}

/// Expects `body` to throw a DatasetError whose message contains `fragment`.
func expectError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing '\(fragment)', got none", sourceLocation: sourceLocation)
    } catch let error as DatasetError {
        #expect(error.description.contains(fragment), "expected an error containing '\(fragment)', got '\(error)'",
                sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a DatasetError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("IDX files and gzip")
struct IDXFileTests {
    let body: [UInt8] = (0..<24).map { UInt8($0 * 7 % 256) }

    @Test("raw and gzip-compressed files read the same dimensions and bytes")
    func roundTrip() throws {
        let raw = idxBytes([2, 3, 4], body)
        for bytes in [raw, Gzip.compress(raw)] {
            let file = try IDXFile(fileBytes: bytes, path: "x.idx")
            #expect(file.dimensions == [2, 3, 4])
            #expect(file.bytes == body)
        }
    }

    @Test("header problems are named")
    func badHeaders() {
        expectError("magic number") { _ = try IDXFile(fileBytes: [1, 0, 8, 1, 0, 0, 0, 0], path: "a") }
        expectError("element type 0x0d") { _ = try IDXFile(fileBytes: idxBytes([24], body, magicType: 0x0D), path: "a") }
        expectError("rank 0") { _ = try IDXFile(fileBytes: [0, 0, 8, 0], path: "a") }
        expectError("no header") { _ = try IDXFile(fileBytes: [0, 0], path: "a") }
    }

    @Test("truncated data, trailing data and a lying header are errors, not crashes or huge allocations")
    func sizeMismatches() {
        expectError("truncated") { _ = try IDXFile(fileBytes: idxBytes([2, 3, 4], Array(body.dropLast())), path: "a") }
        expectError("trailing data") { _ = try IDXFile(fileBytes: idxBytes([2, 3, 4], body + [1]), path: "a") }
        // 60000 × 65535 × 65535 bytes would be 257 TB: refused from the header alone.
        expectError("more than 2 GiB") { _ = try IDXFile(fileBytes: idxBytes([60000, 65535, 65535], body), path: "a") }
        expectError("the header describes") { _ = try IDXFile(fileBytes: Gzip.compress(idxBytes([1000, 28, 28], body)), path: "a") }
    }

    @Test("corrupt and truncated gzip streams are errors naming the file")
    func corruptGzip() {
        let compressed = Gzip.compress(idxBytes([2, 3, 4], body))
        expectError("b.gz: corrupt gzip data: the stream ends early") {
            _ = try IDXFile(fileBytes: Array(compressed.prefix(compressed.count / 2)), path: "b.gz")
        }
        var flipped = compressed
        for i in 12..<min(20, flipped.count - 8) { flipped[i] ^= 0xA5 }
        expectError("b.gz: corrupt gzip data") { _ = try IDXFile(fileBytes: flipped, path: "b.gz") }
        expectError("garbage after the stream") { _ = try IDXFile(fileBytes: compressed + [1, 2, 3], path: "b.gz") }
    }

    @Test("a missing file is an error naming it")
    func missingFile() {
        expectError("/nonexistent/t10k.gz: cannot read") { _ = try IDXFile(contentsOf: "/nonexistent/t10k.gz") }
    }

    @Test("label out of range and mismatched counts are caught when loading a pair")
    func labelProblems() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = folder.appendingPathComponent("images").path
        let labels = folder.appendingPathComponent("labels").path
        let badLabels = folder.appendingPathComponent("bad").path
        try Data(idxBytes([2, 2, 2], Array(body.prefix(8)))).write(to: URL(fileURLWithPath: images))
        try Data(idxBytes([3], [1, 2, 3])).write(to: URL(fileURLWithPath: labels))
        try Data(idxBytes([2], [4, 12])).write(to: URL(fileURLWithPath: badLabels))
        expectError("holds 2 images but") { _ = try MNIST<Float>.load(images: images, labels: labels) }
        expectError("label 12 at index 1 is outside 0..<10") { _ = try MNIST<Float>.load(images: images, labels: badLabels) }
    }
}

@Suite("The shipped MNIST files")
struct ShippedMNISTTests {
    @Test("load with the published counts, first labels and class frequencies")
    func shippedFiles() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Data/mnist").path
        let mnist = try MNIST<Float>(directory: directory)
        #expect(mnist.training.features.shape == [60000, 784])
        #expect(mnist.test.features.shape == [10000, 784])
        #expect(Array(mnist.training.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        var counts = [Int](repeating: 0, count: 10)
        for label in mnist.test.labels { counts[label] += 1 }
        // Test-set class counts as published with the data (Data/mnist/README.md).
        #expect(counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        let pixels = mnist.training.features.scalars
        #expect(pixels.min() == 0 && pixels.max() == 1, "features scaled to [0, 1]")
    }
}

@Suite("Inflating no more than the header declares")
struct InflateLimitTests {
    @Test("a stream longer than its header says stops at the declared size, with an error naming the file")
    func oversizedStream() {
        // The header declares 2×3×4 bytes, the stream carries 100,000 more.
        let compressed = Gzip.compress(idxBytes([2, 3, 4], [UInt8](repeating: 7, count: 24 + 100_000)))
        expectError("big.gz: corrupt gzip data: decompresses to more than the 40 bytes its header declares") {
            _ = try IDXFile(fileBytes: compressed, path: "big.gz")
        }
        expectError("magic number") { _ = try IDXFile(fileBytes: Gzip.compress([9, 9, 9, 9, 9, 9, 9, 9]), path: "x.gz") }
    }

    @Test("the prefix of a stream is its first bytes")
    func prefix() throws {
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        #expect(try Gzip.decompressedPrefix(Gzip.compress(bytes), count: 10, path: "p") == Array(bytes.prefix(10)))
        #expect(try Gzip.decompressedPrefix(Gzip.compress([1, 2]), count: 10, path: "p") == [1, 2])
    }
}
