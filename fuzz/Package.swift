// swift-tools-version: 6.0
// libFuzzer targets for Cicada's parsers (issue 12), built with the Swift toolchain's
// `-sanitize=fuzzer,address`. A separate package so the main build and its tests never link
// libFuzzer: build and run them through fuzz/run.sh, which passes the sanitizer flags
// (without them libFuzzer's driver is missing and the targets do not link).
//
//   fuzz/run.sh                 # every target for 30 s
//   SECONDS_EACH=600 fuzz/run.sh FuzzSSE
//
// Uses the root package's library products (CicadaEngine brings CicadaCore), and SwiftNIO's
// HTTP/1.1 decoder for the engine's request handling.
import PackageDescription

// A path dependency is named by its identity, the lower-cased name of its folder.
let rootIdentity = Context.packageDirectory
    .split(separator: "/").dropLast(1).last.map { String($0).lowercased() } ?? "cicada"

/// One fuzz target: a program that hands its input function to libFuzzer's driver.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: rootIdentity) })
}

let package = Package(
    name: "cicada-fuzz",
    dependencies: [
        .package(path: ".."),
        // The engine's HTTP decoder, for FuzzEngineRequest (the root package uses the same).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CFuzz"),
        .target(name: "FuzzDriver", dependencies: ["CFuzz"]),
        fuzzTarget("FuzzScenario", ["CicadaScenario", "CicadaEngine"]),
        fuzzTarget("FuzzPrometheus", ["CicadaTelemetry"]),
        fuzzTarget("FuzzSSE", ["CicadaEngine"]),
        fuzzTarget("FuzzJSON", ["CicadaEngine"]),
        fuzzTarget("FuzzExpressions", ["CicadaEngine"]),
        fuzzTarget("FuzzRESP", ["CicadaEngine"]),
        fuzzTarget("FuzzTrace", ["CicadaEngine"]),
        fuzzTarget("FuzzHTTPResponse", ["CicadaEngine"]),
        fuzzTarget("FuzzArtifact", ["CicadaEngine"]),
        fuzzTarget("FuzzReport", ["CicadaReport", "CicadaEngine"]),
        .executableTarget(name: "FuzzEngineRequest", dependencies: [
            "FuzzDriver", .product(name: "CicadaEngine", package: rootIdentity),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
