// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Autodiff",
    // Synchronization's Mutex and Atomic need these; Linux has no minimum.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "Autodiff", targets: ["Autodiff"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Plotting", targets: ["Plotting"]),
        // The examples' flag parsing and picture folder, for the examples in Distributed/; not
        // part of the engine's API.
        .library(name: "ExampleSupport", targets: ["ExampleSupport"]),
        .executable(name: "example-sqrt", targets: ["example-sqrt"]),
        .executable(name: "example-mnist", targets: ["example-mnist"]),
        .executable(name: "example-logistic", targets: ["example-logistic"]),
        .executable(name: "example-moons", targets: ["example-moons"]),
        .executable(name: "example-optimizers", targets: ["example-optimizers"]),
        .executable(name: "example-rosenbrock", targets: ["example-rosenbrock"]),
        .executable(name: "example-molecules", targets: ["example-molecules"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    targets: [
        // The few hot kernels, in C so that AVX2/FMA code can be chosen at run time
        // through target attributes, with no compiler flags (so the package stays embeddable).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "Autodiff", dependencies: ["CKernels"]),
        .target(name: "NeuralNetworks", dependencies: ["Autodiff", "CKernels"]),
        .target(name: "Datasets", dependencies: ["Autodiff", "CKernels", "CZlib"]),
        .target(name: "Plotting"),
        // Flag parsing shared by the examples; not a product.
        .target(name: "ExampleSupport", dependencies: ["NeuralNetworks", "Plotting"]),
        .executableTarget(
            name: "example-sqrt", dependencies: ["Autodiff", "Plotting", "ExampleSupport"], path: "Examples/example-sqrt"),
        .executableTarget(
            name: "example-logistic", dependencies: ["NeuralNetworks", "Datasets", "Plotting", "ExampleSupport"],
            path: "Examples/example-logistic"),
        .executableTarget(
            name: "example-moons", dependencies: ["NeuralNetworks", "Datasets", "Plotting", "ExampleSupport"],
            path: "Examples/example-moons"),
        .executableTarget(
            name: "example-optimizers", dependencies: ["NeuralNetworks", "Datasets", "Plotting", "ExampleSupport"],
            path: "Examples/example-optimizers"),
        .executableTarget(
            name: "example-rosenbrock", dependencies: ["Autodiff", "NeuralNetworks", "Plotting", "ExampleSupport"],
            path: "Examples/example-rosenbrock"),
        .executableTarget(
            name: "example-molecules", dependencies: ["Autodiff", "Plotting", "ExampleSupport"],
            path: "Examples/example-molecules"),
        .executableTarget(
            name: "example-mnist", dependencies: ["Autodiff", "NeuralNetworks", "Datasets", "Plotting", "ExampleSupport"],
            path: "Examples/example-mnist",
            // The sample picture for --predict and the script that makes it.
            exclude: ["make-sample.py", "sample-2026.png"]),
        .executableTarget(
            name: "bench", dependencies: ["Autodiff", "CKernels", "NeuralNetworks", "Datasets", "ExampleSupport"],
            path: "Benchmarks/bench"),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff"]),
        // Ops written against the public API only: imports Autodiff without @testable.
        .testTarget(name: "CustomOpTests", dependencies: ["Autodiff"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "Autodiff", "CKernels"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Autodiff", "CKernels"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "Datasets"]),
    ],
    swiftLanguageModes: [.v6]
)
