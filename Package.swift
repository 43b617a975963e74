// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "flowrun",
    platforms: [.macOS(.v15)],  // Synchronization.Atomic (the expression engine's field-read cache)
    products: [
        .executable(name: "flowrun", targets: ["flowrun"]),
        .library(name: "Flowrun", targets: ["Flowrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .target(
            name: "FlowrunValue",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]
        ),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-16", providers: [.apt(["libpcre2-dev"])]),
        .target(
            name: "FlowrunExpression",
            dependencies: [
                "FlowrunValue", "CPCRE2", .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "FlowrunGraph", dependencies: ["FlowrunExpression", "Yams"]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "FlowrunRuntime",
            dependencies: ["FlowrunGraph", "CSQLite", .product(name: "Logging", package: "swift-log")],
            // The run loop mutates the run's stack and record per delivery; dynamic exclusivity checks
            // cost 6% of a pure chain (bench/README.md). The executor is single-threaded per run.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .target(name: "FlowrunComponents", dependencies: ["FlowrunRuntime"]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "FlowrunHTTP", dependencies: ["FlowrunRuntime", "CCurl"]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "FlowrunDatabase", dependencies: ["FlowrunRuntime", "CPostgres"]),
        .target(
            name: "Flowrun",
            dependencies: [
                "FlowrunGraph", "FlowrunRuntime", "FlowrunComponents", "FlowrunHTTP", "FlowrunDatabase",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FlowrunService",
            dependencies: [
                "Flowrun", "FlowrunHTTP", .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(name: "FlowrunConsole", dependencies: ["FlowrunService"]),
        .executableTarget(
            name: "flowrun",
            dependencies: [
                "Flowrun",
                "FlowrunService",
                "FlowrunConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "flowrun-bench", dependencies: ["FlowrunExpression"], path: "Sources/flowrun-bench"),
        .testTarget(name: "FlowrunServiceTests", dependencies: ["FlowrunService", "FlowrunTesting"]),
        .testTarget(name: "FlowrunConsoleTests", dependencies: ["FlowrunConsole", "FlowrunTesting"]),
        .testTarget(name: "FlowrunValueTests", dependencies: ["FlowrunValue"]),
        .testTarget(
            name: "FlowrunExpressionTests",
            dependencies: ["FlowrunExpression"],
            resources: [.copy("Golden")]
        ),
        .testTarget(
            name: "FlowrunGraphTests",
            dependencies: ["Flowrun"],
            resources: [.copy("Fixtures")]
        ),
        .target(name: "FlowrunTesting", dependencies: ["Flowrun"]),
        .testTarget(
            name: "FlowrunTests",
            dependencies: [
                "Flowrun", "FlowrunTesting", "FlowrunRuntime", "FlowrunDatabase",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["example_apis.py"]),
        .testTarget(name: "FlowrunDatabaseTests", dependencies: ["FlowrunTesting", "FlowrunDatabase"]),
        .testTarget(
            name: "FlowrunHTTPTests",
            dependencies: ["FlowrunTesting", "FlowrunHTTP"],
            exclude: ["test_server.py"]
        ),
        .testTarget(
            name: "FlowrunRuntimeTests", dependencies: ["FlowrunTesting", "FlowrunRuntime", "FlowrunComponents"]),
    ]
)
