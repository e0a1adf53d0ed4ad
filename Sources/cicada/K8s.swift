import ArgumentParser
import CicadaCore
import CicadaDeploy
import CicadaScenario
import CicadaSession
import Foundation

/// `cicada k8s render FILE --shards N`: Kubernetes manifests that run a scenario as an Indexed
/// Job of shards and merge them (docs/DISTRIBUTED.md).
struct K8s: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k8s",
        abstract: "Run a scenario as shards on Kubernetes.",
        subcommands: [Render.self]
    )

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print manifests (ConfigMap, results claim, Indexed Job of shards, merge Job) for kubectl apply.",
            discussion: "Example: cicada k8s render scenarios/chat.yaml --shards 8 --image registry.example/cicada:1.0 | kubectl apply -f -")

        @Argument(help: "The scenario file.") var file: String
        @Option(help: "How many shards (the Indexed Job's completions and parallelism).") var shards: Int
        @Option(help: "Container image with cicada on its PATH and /bin/sh.") var image = "cicada:\(CicadaVersion.current)"
        @Option(help: "Name of the Jobs and their objects (default: from the file name).") var name: String?
        @Option(help: "Namespace for every object (default: none, kubectl's).") var namespace: String?
        @Option(help: "The common start, RFC 3339 (e.g. 2026-12-06T10:00:00Z); default: now plus --start-in.") var startAt: String?
        @Option(help: "With no --start-at: start this long after rendering, room for scheduling and image pulls.") var startIn = "2m"
        @Option(help: "Fewest shard artifacts for a passing merge (default: every shard).") var minShards: Int?
        @Option(help: "An existing ReadWriteMany PersistentVolumeClaim for the results (default: render one).") var resultsClaim: String?
        @Option(help: "Size of the rendered results claim.") var claimSize = "1Gi"
        @Option(help: "Storage class of the rendered results claim.") var storageClass: String?
        @Option(help: "CPU request of each shard, e.g. 2.") var cpu: String?
        @Option(help: "Memory request and limit of each shard, e.g. 2Gi.") var memory: String?
        @Option(help: "How long the merge waits past the run's end for late shards.") var grace = "10m"
        @Flag(help: "Require one shard per node (else shards only prefer separate nodes).") var strictSpread = false
        @Option(name: .customLong("run-arg"), parsing: .unconditionalSingleValue, help: "An extra flag for every shard's cicada run (repeatable), e.g. --run-arg=--workers --run-arg=4.")
        var runArgs: [String] = []

        func run() throws {
            let document = try RunSession.document(at: file)
            guard let duration = document.scenario.load.duration else {
                throw SessionError.usage("\(file): the scenario runs until stopped; a sharded run needs a run time (run_time or stages)")
            }
            if document.targetsEngine {
                printError("note: \(file) targets the embedded engine: every shard would start its own, so the shards would not share one server")
            }
            guard let graceDuration = DurationText.parse(grace) else { throw SessionError.usage("--grace '\(grace)' is not a duration") }
            let start: String
            if let startAt {
                guard Self.parseRFC3339(startAt) != nil else {
                    throw SessionError.usage("--start-at '\(startAt)' is not an RFC 3339 time (e.g. 2026-12-06T10:00:00Z)")
                }
                start = startAt
            } else {
                guard let delay = DurationText.parse(startIn) else { throw SessionError.usage("--start-in '\(startIn)' is not a duration") }
                start = Self.formatRFC3339(Date().addingTimeInterval(delay.seconds))
            }
            var files: [DeployFile] = []
            for f in document.dataFiles {
                guard let data = FileManager.default.contents(atPath: f.resolved) else {
                    if f.key.hasPrefix("baseline") { continue } // a baseline not yet recorded: the shards run without it
                    throw SessionError.usage("\(file): \(f.key): cannot read '\(f.resolved)'")
                }
                files.append(DeployFile(path: f.path, bytes: [UInt8](data)))
            }
            guard let text = FileManager.default.contents(atPath: file) else { throw SessionError.usage("\(file): cannot read") }
            let spec = KubernetesJobSpec(
                name: name ?? KubernetesRender.defaultName(fromFile: file), namespace: namespace, image: image, shards: shards,
                scenarioFileName: (file as NSString).lastPathComponent, scenarioText: String(decoding: text, as: UTF8.self),
                dataFiles: files, startAt: start, runSeconds: Int((duration.seconds + 10).rounded(.up)),
                graceSeconds: Int(graceDuration.seconds.rounded(.up)), minShards: minShards, resultsClaim: resultsClaim,
                claimSize: claimSize, storageClass: storageClass, cpu: cpu, memory: memory, strictSpread: strictSpread, extraRunArgs: runArgs)
            do {
                print(try KubernetesRender.render(spec), terminator: "")
            } catch {
                throw SessionError.usage("\(file): \(error.description)")
            }
        }

        static func parseRFC3339(_ text: String) -> Date? {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime]
            if let d = f.date(from: text) { return d }
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return f.date(from: text)
        }

        static func formatRFC3339(_ date: Date) -> String {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime]
            return f.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.up)))
        }
    }
}
