// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "cicada",
    products: [
        .executable(name: "cicada", targets: ["cicada"]),
        // For the microbenchmarks package in bench/micro (batcher, cache, histogram, templates).
        .library(name: "CicadaEngine", targets: ["CicadaEngine", "CicadaCore"]),
        // For bench/micro: the dashboard's frame builder.
        .library(name: "CicadaDashboard", targets: ["CicadaDashboard"]),
        // For the fuzz targets in fuzz/: the scenario reader and the Prometheus text parser.
        .library(name: "CicadaScenario", targets: ["CicadaScenario"]),
        .library(name: "CicadaTelemetry", targets: ["CicadaTelemetry"]),
        // For fuzz/: the report readers (`cicada report`'s HTML, `cicada diff`).
        .library(name: "CicadaReport", targets: ["CicadaReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        // C edge: libcurl, with typed shims for its variadic functions.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // C edge: the system zlib, for HdrHistogram's standard compressed encoding.
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Pure core: scenario model, schedules, statistics, thresholds. No I/O.
        .target(
            name: "CicadaCore",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift"), "CZlib"]
        ),
        // Scenario files: YAML -> validated CicadaCore.Scenario and CicadaEngine's EngineConfig,
        // SweepSpec and CompareSpec, every error with file:line:column. Only reads.
        .target(
            name: "CicadaScenario",
            dependencies: ["CicadaCore", "CicadaEngine", .product(name: "Yams", package: "Yams")]
        ),
        // libcurl multi workers: the only module that imports CCurl.
        // Release builds leave out the run-time exclusivity checks of this module only: they were
        // 7.5 % of the fast worker's user CPU per request (perf; docs/DECISIONS.md). Debug builds,
        // which every test runs, keep them.
        .target(
            name: "CicadaTransport",
            dependencies: ["CicadaCore", "CCurl"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Summary, JSON, CSV, JUnit and Markdown writers over snapshots. Pure: writes to sinks.
        .target(
            name: "CicadaReport",
            dependencies: ["CicadaCore"]
        ),
        // One run: workers, aggregator, threshold evaluation, progress and stop conditions.
        .target(
            name: "CicadaRunner",
            dependencies: ["CicadaCore", "CicadaTransport"]
        ),
        // The embedded inference engine's pure core: Triton-style dynamic batcher, result cache,
        // modelled GPU device. No I/O; time is injected.
        .target(name: "CicadaEngine", dependencies: ["CicadaCore"]),
        // The embedded engine's HTTP server (SwiftNIO): /predict, OpenAI-compatible, /health,
        // /metrics, /admin/batching.
        .target(
            name: "CicadaEngineServer",
            dependencies: [
                "CicadaCore", "CicadaEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // A local HTTP target with a known service time and stalls, for tests, quickstart and benchmarks.
        .target(
            name: "CicadaTestTarget",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ]
        ),
        // One `cicada run` or comparison from a scenario document: starts the engine, test target
        // and telemetry, runs under an injected live view or progress lines, writes every report
        // through its sink, chooses the exit status. No terminal: the live view is a protocol.
        .target(
            name: "CicadaSession",
            dependencies: ["CicadaCore", "CicadaScenario", "CicadaRunner", "CicadaReport", "CicadaEngine", "CicadaEngineServer",
                           "CicadaTestTarget", "CicadaTelemetry", "CicadaTransport", "CicadaSweep",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        // Batch-configuration sweeps against the embedded engine, and their analysis.
        .target(name: "CicadaSweep", dependencies: ["CicadaCore", "CicadaEngine", "CicadaEngineServer", "CicadaRunner", "CicadaReport", "CicadaTransport"]),
        // Manifests for running shards on existing engines (`cicada k8s render`). Pure: text out.
        .target(name: "CicadaDeploy", dependencies: []),
        // C edge: ncursesw with shims for its macros.
        .systemLibrary(name: "CNcursesw", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),
        // The terminal screen: draws dashboard frames (changed cells only), reads keys, restores
        // the terminal. The only module that imports CNcursesw.
        .target(name: "CicadaTerminal", dependencies: ["CNcursesw", "CicadaDashboard"]),
        // Composition root: flag parsing, the terminal dashboard, signals, exit codes.
        .executableTarget(
            name: "cicada",
            dependencies: [
                "CicadaCore", "CicadaScenario", "CicadaRunner", "CicadaSession", "CicadaTestTarget", "CicadaEngine", "CicadaEngineServer",
                "CicadaDashboard", "CicadaTerminal", "CicadaTransport", "CicadaDeploy", "CicadaReport", "CicadaSweep",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // C edge: NVML through dlopen (no link-time dependency on the NVIDIA driver); typed cnvml_* calls.
        .target(name: "CNVML", linkerSettings: [.linkedLibrary("dl")]),
        // GPU and server telemetry: Prometheus text parser, known families (DCGM, Triton, vLLM, TGI,
        // SGLang, engine), NVML and nvidia-smi readers. The only module that imports CNVML.
        .target(name: "CicadaTelemetry", dependencies: ["CicadaCore", "CNVML"]),
        // Debug probe for scripts/check-nvml.sh: NVML and nvidia-smi readings side by side as JSON lines.
        .executableTarget(name: "cicada-gpu-probe", dependencies: ["CicadaTelemetry"]),
        // Pure dashboard: model -> frame of styled cells. No curses, no I/O.
        .target(name: "CicadaDashboard", dependencies: ["CicadaCore"]),
        .testTarget(name: "CicadaCoreTests", dependencies: ["CicadaCore"]),
        .testTarget(name: "CicadaTransportTests", dependencies: ["CicadaTransport", "CicadaCore"]),
        .testTarget(name: "CicadaRunnerTests", dependencies: ["CicadaRunner", "CicadaCore", "CicadaScenario", "CicadaTransport"]),
        .testTarget(name: "CicadaScenarioTests", dependencies: ["CicadaScenario", "CicadaCore", "CicadaEngine"]),
        .testTarget(name: "CicadaReportTests", dependencies: ["CicadaReport", "CicadaCore"]),
        .testTarget(name: "CicadaDeployTests", dependencies: ["CicadaDeploy", .product(name: "Yams", package: "Yams")], resources: [.copy("Goldens")]),
        .testTarget(name: "CicadaEngineTests", dependencies: ["CicadaEngine", "CicadaCore"]),
        .testTarget(
            name: "CicadaTelemetryTests",
            dependencies: ["CicadaTelemetry", "CicadaCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "CicadaDashboardTests",
            dependencies: ["CicadaDashboard", "CicadaCore"],
            resources: [.copy("Goldens")]
        ),
        .testTarget(
            name: "CicadaIntegrationTests",
            dependencies: ["CicadaRunner", "CicadaCore", "CicadaScenario", "CicadaTestTarget", "CicadaReport", "CicadaEngine", "CicadaEngineServer", "CicadaTelemetry", "CicadaTransport", "CicadaSweep", "CicadaSession", "cicada",
                           .product(name: "Yams", package: "Yams")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
