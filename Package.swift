// swift-tools-version:6.0
import PackageDescription

/// Issue 19 (peak RSS, bench/README.md): a static release binary is 28 MB of code, and the kernel maps it
/// into a process in whole 64 KiB windows (large page-cache folios), so where the code a run touches lies
/// decides how much of it is resident. Release builds put every function in its own section, link with
/// lld, lay the functions a sync and `flowrun check` execute next to each other (bench/order/, generated
/// from callgrind runs), and pack the 90,000 relative relocations (2 MiB of `.rela.dyn` read at every start)
/// into a few KiB of RELR.
let releaseSections: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release))
]
let symbolOrder = Context.packageDirectory + "/bench/order/symbol-order.txt"
let releaseLayout: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
            "-Xlinker", "--symbol-ordering-file=" + symbolOrder, "-Xlinker", "--no-warn-symbol-ordering",
        ],
        .when(platforms: [.linux], configuration: .release)
    )
]

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
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: releaseSections
        ),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-16", providers: [.apt(["libpcre2-dev"])]),
        .target(
            name: "FlowrunExpression",
            dependencies: [
                "FlowrunValue", "CPCRE2", .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: releaseSections
        ),
        .target(name: "FlowrunGraph", dependencies: ["FlowrunExpression", "Yams"], swiftSettings: releaseSections),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "FlowrunRuntime",
            dependencies: ["FlowrunGraph", "CSQLite", .product(name: "Logging", package: "swift-log")],
            // The run loop mutates the run's stack and record per delivery; dynamic exclusivity checks
            // cost 6% of a pure chain (bench/README.md). The executor is single-threaded per run.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
                + releaseSections
        ),
        .target(name: "FlowrunComponents", dependencies: ["FlowrunRuntime"], swiftSettings: releaseSections),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "FlowrunHTTP", dependencies: ["FlowrunRuntime", "CCurl"], swiftSettings: releaseSections),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "FlowrunDatabase", dependencies: ["FlowrunRuntime", "CPostgres"], swiftSettings: releaseSections),
        .target(
            name: "Flowrun",
            dependencies: [
                "FlowrunGraph", "FlowrunRuntime", "FlowrunComponents", "FlowrunHTTP", "FlowrunDatabase",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSections
        ),
        .target(
            name: "FlowrunService",
            dependencies: [
                "Flowrun", "FlowrunHTTP", .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: releaseSections
        ),
        .target(name: "FlowrunConsole", dependencies: ["FlowrunService"], swiftSettings: releaseSections),
        .executableTarget(
            name: "flowrun",
            dependencies: [
                "Flowrun",
                "FlowrunService",
                "FlowrunConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSections,
            linkerSettings: releaseLayout
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
