import Datasets
import FuzzDriver

/// One input: the IDX reader (raw or gzip) must return or throw, never crash or run away.
func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let file = try? IDXFile(fileBytes: bytes, path: "fuzz") {
        // What parsed must be consistent.
        var count = 1
        for d in file.dimensions { count *= d }
        if count != file.bytes.count { fatalError("IDX: \(file.dimensions) with \(file.bytes.count) bytes") }
    }
    return 0
}

/// The program's entry point under the name SwiftPM links as `main`.
@_cdecl("fuzz_idx_main")
func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzIDX)
}
