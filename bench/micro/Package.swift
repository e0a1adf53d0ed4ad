// swift-tools-version: 6.1
// Micro-benchmarks of the embedded engine's pure core (CicadaEngine) and CicadaCore hot paths,
// with ordo-one's package-benchmark. A separate package, so the main build and CI never pull in
// the benchmark tooling.
//
//   swift package --package-path bench/micro benchmark
//
// Uses the root package's library products CicadaEngine (CicadaEngine + CicadaCore) and
// CicadaDashboard (see README.md in this folder).
import PackageDescription

// A path dependency is named by its identity, the lower-cased name of its folder ("main" in a
// checkout at /work/main, "cicada" in one at ~/src/cicada), not by the manifest's `name:`.
let rootIdentity = Context.packageDirectory
    .split(separator: "/").dropLast(2).last.map { String($0).lowercased() } ?? "cicada"

let package = Package(
    name: "cicada-micro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        // ordo-one/benchmark, under its earlier name; MallocInterposer only (the default traits
        // also pull in swift-runtime-interposer on Swift 6.3 Linux, which the local mirror lacks).
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1",
                 traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CicadaEngine", package: rootIdentity),
                .product(name: "CicadaDashboard", package: rootIdentity),
            ],
            path: "Benchmarks/EngineBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "package-benchmark"),
            ]
        ),
    ]
)
