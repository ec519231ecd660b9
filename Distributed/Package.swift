// swift-tools-version: 6.0
// Data-parallel training over MPI. A package of its own, so that the root package (the engine)
// keeps no dependencies and builds on machines without MPI.
import PackageDescription

let package = Package(
    name: "AutodiffDistributed",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MessagePassing", targets: ["MessagePassing"]),
        .library(name: "DataParallel", targets: ["DataParallel"]),
        .executable(name: "example-mnist-distributed", targets: ["example-mnist-distributed"]),
        .executable(name: "bench-distributed", targets: ["bench-distributed"]),
    ],
    dependencies: [.package(name: "Autodiff", path: "..")],
    targets: [
        // Open MPI through pkg-config (ompi-c), and a header that hands its predefined handles to Swift.
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["openmpi-bin", "libopenmpi-dev"]), .brew(["open-mpi"])]),
        // The calls the engine needs, in Swift, with typed errors.
        .target(name: "MessagePassing", dependencies: ["CMPI"]),
        // Replicas of a model or of a user's own parameters, kept identical across processes.
        .target(
            name: "DataParallel",
            dependencies: [
                "MessagePassing", .product(name: "Autodiff", package: "Autodiff"),
                .product(name: "NeuralNetworks", package: "Autodiff"),
            ]),
        .executableTarget(
            name: "example-mnist-distributed",
            dependencies: [
                "DataParallel", .product(name: "Datasets", package: "Autodiff"),
                .product(name: "Plotting", package: "Autodiff"), .product(name: "ExampleSupport", package: "Autodiff"),
            ]),
        .executableTarget(
            name: "bench-distributed",
            dependencies: ["DataParallel", .product(name: "Datasets", package: "Autodiff"),
                           .product(name: "ExampleSupport", package: "Autodiff")]),
        .testTarget(name: "DataParallelTests", dependencies: ["DataParallel"]),
    ],
    swiftLanguageModes: [.v6]
)
