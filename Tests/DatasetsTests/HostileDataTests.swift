import Autodiff
import Datasets
import Foundation
import Testing

/// A folder with the four MNIST files built from the given image sizes and counts.
func mnistFolder(train: (count: Int, rows: Int, columns: Int), test: (count: Int, rows: Int, columns: Int)) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for (prefix, shape) in [("train", train), ("t10k", test)] {
        let pixels = [UInt8](repeating: 9, count: shape.count * shape.rows * shape.columns)
        try Data(idxBytes([shape.count, shape.rows, shape.columns], pixels)).write(to: URL(fileURLWithPath: "\(folder)/\(prefix)-images-idx3-ubyte"))
        try Data(idxBytes([shape.count], [UInt8](repeating: 3, count: shape.count))).write(to: URL(fileURLWithPath: "\(folder)/\(prefix)-labels-idx1-ubyte"))
    }
    return folder
}

@Suite("Hostile data files")
struct HostileDataTests {
    @Test("a small gzip stream declaring 2.1 GB stops with an error, not a 2 GB allocation followed by garbage")
    func hugeDeclaration() {
        let lying = Gzip.compress(idxBytes([2_739_000, 28, 28], [UInt8](repeating: 0, count: 1000)))
        expectError("x.gz: the header describes 2147376016 bytes but the file holds 1016 (truncated)") {
            _ = try IDXFile(fileBytes: lying, path: "x.gz")
        }
    }

    @Test("image sizes: other sizes load with their width, 0×0 and mismatched sets are refused, empty sets too")
    func imageSizes() throws {
        let small = try mnistFolder(train: (5, 8, 8), test: (3, 8, 8))
        let mnist = try MNIST<Float>(directory: small)
        #expect(mnist.imageSize == 64 && mnist.training.count == 5 && mnist.test.count == 3)
        expectError("images of 0×0 pixels hold nothing") { _ = try MNIST<Float>(directory: try mnistFolder(train: (5, 0, 0), test: (3, 0, 0))) }
        expectError("holds images of 64 pixels but") { _ = try MNIST<Float>(directory: try mnistFolder(train: (5, 8, 8), test: (3, 28, 28))) }
        expectError("the file holds no images") { _ = try MNIST<Float>(directory: try mnistFolder(train: (0, 28, 28), test: (3, 28, 28))) }
        expectError("the file holds no images") { _ = try MNIST<Float>(directory: try mnistFolder(train: (5, 28, 28), test: (0, 28, 28))) }
    }

    @Test("a directory or a FIFO where a data file should be gets a clear error, without blocking")
    func specialFiles() throws {
        let folder = try mnistFolder(train: (5, 8, 8), test: (3, 8, 8))
        let images = "\(folder)/train-images-idx3-ubyte"
        try FileManager.default.removeItem(atPath: images)
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: false)
        expectError("train-images-idx3-ubyte: cannot read: is a directory, not a file") { _ = try MNIST<Float>(directory: folder) }
        try FileManager.default.removeItem(atPath: images)
        #expect(mkfifo(images, 0o600) == 0)
        expectError("train-images-idx3-ubyte: cannot read: is a FIFO (named pipe), not a regular file") { _ = try MNIST<Float>(directory: folder) }
        expectError("cannot read: is a FIFO") { _ = try GrayImage(contentsOf: images) }
    }

    @Test("a PNG chunk with a wrong CRC is refused; a PGM declaring 537 MB of pixels in 26 bytes is refused before allocating")
    func images() {
        var png = pngBytes(width: 2, height: 1, colorType: 0, rows: [0, 10, 20])
        png[png.count - 14] ^= 0xFF  // a byte of the IDAT data
        expectError("fails its CRC check") { _ = try GrayImage(fileBytes: png, path: "bad.png") }
        let pgm = Array("P5\n8192 8192\n255\n12345678".utf8)
        expectError("bad.pgm: cannot decode image: pixel data is truncated") { _ = try GrayImage(fileBytes: pgm, path: "bad.pgm") }
        let ascii = Array("P2\n8000 8000\n255\n1 2 3".utf8)
        expectError("pixel data is truncated") { _ = try GrayImage(fileBytes: ascii, path: "bad.pgm") }
    }

    @Test("blank paper holds no digits")
    func blank() {
        let white = GrayImage(width: 112, height: 28, pixels: [Double](repeating: 1, count: 112 * 28))
        #expect(DigitExtraction.digits(in: white).isEmpty)
        let photo = GrayImage(width: 100, height: 60, pixels: [Double](repeating: 0.9, count: 6000))
        #expect(DigitExtraction.digits(in: photo).isEmpty)
    }
}

@Suite("Class names")
struct ClassNameTests {
    @Test("--classes, classes.txt beside the data, Fashion-MNIST by its folder name, else digits")
    func names() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("Fashion-MNIST-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(try ClassNames.names(forDataIn: folder, classes: 10)[9] == "Ankle boot")
        #expect(try ClassNames.names(forDataIn: "/data/mnist", classes: 3) == ["0", "1", "2"])
        #expect(try ClassNames.names(forDataIn: folder, classes: 2, given: ["cat", "dog"]) == ["cat", "dog"])
        expectError("--classes names 1 classes; the data has 2") { _ = try ClassNames.names(forDataIn: folder, classes: 2, given: ["cat"]) }
        try "cat\ndog\n\n".write(toFile: "\(folder)/classes.txt", atomically: true, encoding: .utf8)
        #expect(try ClassNames.names(forDataIn: folder, classes: 2) == ["cat", "dog"])
        expectError("names 2 classes; the data has 10") { _ = try ClassNames.names(forDataIn: folder, classes: 10) }
        #expect(ClassNames.datasetName("Data/mnist/") == "mnist")
    }
}
