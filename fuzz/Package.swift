// swift-tools-version:6.0
// Coverage-guided fuzz targets (libFuzzer through the Swift toolchain's `-sanitize=fuzzer`), kept in their
// own package so the product build never carries the fuzzer flags. Build and run with scripts/fuzz.
import PackageDescription

let package = Package(
    name: "flowrun-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "flowrun", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzExpression", dependencies: ["FuzzSupport", .product(name: "Flowrun", package: "flowrun")]),
        .executableTarget(
            name: "FuzzJSON", dependencies: ["FuzzSupport", .product(name: "Flowrun", package: "flowrun")]),
        .executableTarget(
            name: "FuzzHTTPRequest", dependencies: ["FuzzSupport", .product(name: "Flowrun", package: "flowrun")]),
        .executableTarget(
            name: "FuzzFlow", dependencies: ["FuzzSupport", .product(name: "Flowrun", package: "flowrun")]),
    ]
)
