import Autodiff
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
        // A model from what passes, its weights, and every optimizer's state: each check
        // returns or throws with a name, never crashes.
        guard let architecture = try? MLPArchitecture(checkpoint: contents, path: "fuzz") else { return 0 }
        let tape = Tape<Float>()
        let model = MLP<Float>(sizes: architecture.sizes, activations: architecture.activations, initializer: .zeros, on: tape, seed: 1)
        try? Checkpoint.apply(contents, to: model.namedParameters, path: "fuzz")
        let (names, shapes) = (model.namedParameters.map(\.name), model.parameters.map(\.shape))
        for kind: OptimizerKind in [.sgd, .momentum(0.9), .adaGrad, .rmsProp(decay: 0.9), .adam(beta1: 0.9, beta2: 0.999)] {
            var optimizer = GradientDescent<Float>(kind: kind, parameters: model.parameters)
            _ = try? optimizer.restore(contents, names: names, shapes: shapes, path: "fuzz")
            _ = try? Checkpoint.count("iteration", in: contents, path: "fuzz")
        }
    }
    return 0
}

/// The program's entry point under the name SwiftPM links as `main`.
@_cdecl("fuzz_safetensors_main")
func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzSafetensors)
}
