import NeuralNetworks
import FuzzDriver

/// One input: the safetensors reader must return or throw, never crash or run away.
func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let contents: CheckpointContents<Float> = try? Checkpoint.decode(bytes, path: "fuzz") {
        for (name, tensor) in contents.tensors where tensor.shape.reduce(1, *) != tensor.count {
            fatalError("safetensors: '\(name)' of shape \(tensor.shape) with \(tensor.count) values")
        }
        _ = try? MLPArchitecture(checkpoint: contents, path: "fuzz")
    }
    return 0
}

/// The program's entry point under the name SwiftPM links as `main`.
@_cdecl("fuzz_safetensors_main")
func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzSafetensors)
}
