import Datasets
import FuzzDriver

/// One input: the PNG/PGM decoder must return or throw, never crash or run away; what it
/// returns goes through digit extraction too.
func fuzzImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let image = try? GrayImage(fileBytes: bytes, path: "fuzz") {
        if image.pixels.count != image.width * image.height { fatalError("image: \(image.width)×\(image.height), \(image.pixels.count) pixels") }
        if image.pixels.count > GrayImage.pixelBudget { fatalError("image: \(image.pixels.count) pixels, over the budget") }
        if image.width * image.height <= 1 << 16 { _ = DigitExtraction.digits(in: image) }
    }
    return 0
}

/// The program's entry point under the name SwiftPM links as `main`.
@_cdecl("fuzz_image_main")
func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzImage)
}
