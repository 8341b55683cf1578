// swift-tools-version:6.0
// Lethe: a machine-unlearning workbench. Module layout and dependency direction follow Docs/Architecture.md §1:
//   Tensor ← NeuralNet ← Datasets ← {Unlearning, Evaluation} ← LetheDaemon ← lethed
//   JSONRPC ← LetheProtocol ← {LetheDaemon, lethe}      (the CLI links no engine code)
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]
let fast: [SwiftSetting] = v5 + [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "Lethe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lethed", targets: ["lethed"]),
        .executable(name: "lethe", targets: ["lethe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // `lethe mcp`: the Model Context Protocol server over stdio, and the MCP client its test drives it with.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // System libraries (installed by `make deps`).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CLibSVM", path: "Sources/CLibSVM"),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),

        // Engine.
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "NeuralNet", dependencies: ["Tensor", "CDNNL"], swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["Tensor", "NeuralNet", "CZlib"], swiftSettings: fast),
        .target(name: "Unlearning", dependencies: ["Tensor", "NeuralNet", "Datasets"], swiftSettings: fast),
        .target(name: "Evaluation", dependencies: ["Tensor", "NeuralNet", "Datasets", "CLibSVM"], swiftSettings: fast),

        // Protocol: no engine imports.
        .target(name: "JSONRPC", swiftSettings: v5),
        .target(name: "LetheProtocol", dependencies: ["JSONRPC"], swiftSettings: v5),

        // Daemon.
        .target(name: "LetheDaemon", dependencies: [
            "Tensor", "NeuralNet", "Datasets", "Unlearning", "Evaluation", "JSONRPC", "LetheProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ],
        // The OpenRPC document (Protocol/lethe.openrpc.json links here), served by rpc.discover.
        resources: [.copy("Resources/lethe.openrpc.json")],
        swiftSettings: v5),
        .executableTarget(name: "lethed", dependencies: [
            "LetheDaemon",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),

        // CLI: protocol only (MCP is the protocol `lethe mcp` speaks to editors and assistants).
        .executableTarget(name: "lethe", dependencies: [
            "JSONRPC", "LetheProtocol",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "MCP", package: "swift-sdk"),
        ], swiftSettings: v5),

        // Benchmarks: the engine's workloads of the PyTorch anchor (`make bench`).
        .executableTarget(name: "lethe-bench", dependencies: ["Tensor", "NeuralNet", "Datasets"],
                          path: "Benchmarks/Sources/lethe-bench", swiftSettings: fast),

        // Tests mirror modules; LetheEndToEndTests drives a real lethed over a real socket.
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], swiftSettings: v5),
        .testTarget(name: "NeuralNetTests", dependencies: ["Tensor", "NeuralNet"], swiftSettings: v5),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "NeuralNet"], swiftSettings: v5),
        .testTarget(name: "UnlearningTests", dependencies: ["Unlearning", "Datasets", "NeuralNet"], swiftSettings: v5),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Datasets", "NeuralNet"], swiftSettings: v5),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC"], swiftSettings: v5),
        .testTarget(name: "LetheEndToEndTests", dependencies: [
            "JSONRPC", "LetheProtocol", .product(name: "MCP", package: "swift-sdk"),
            .product(name: "SystemPackage", package: "swift-system"),
        ], swiftSettings: v5),
    ]
)
