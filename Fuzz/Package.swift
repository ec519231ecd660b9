// swift-tools-version: 6.0
// Fuzz targets for the three parsers (IDX with gzip, safetensors, PNG/PGM). Not part of the
// library package: build and run them with Fuzz/run.sh, which passes -sanitize=fuzzer,address
// on the command line.
import PackageDescription

let package = Package(
    name: "AutodiffFuzz",
    dependencies: [.package(name: "Autodiff", path: "..")],
    targets: [
        // libFuzzer's driver, shared by the three targets.
        .target(name: "FuzzDriver"),
        .executableTarget(name: "fuzz-idx", dependencies: ["FuzzDriver", .product(name: "Datasets", package: "Autodiff")]),
        .executableTarget(name: "fuzz-safetensors", dependencies: [
            "FuzzDriver", .product(name: "Autodiff", package: "Autodiff"), .product(name: "NeuralNetworks", package: "Autodiff"),
        ]),
        .executableTarget(name: "fuzz-image", dependencies: ["FuzzDriver", .product(name: "Datasets", package: "Autodiff")]),
    ],
    swiftLanguageModes: [.v6]
)
