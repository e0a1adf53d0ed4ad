import CicadaCore
import CicadaEngine
import CicadaReport
import Foundation

/// Writes this process's shard artifact (`--out DIR`: `DIR/shard-I-of-N.json`,
/// `cicada.shard/v1`, docs/DISTRIBUTED.md) for `cicada merge` to add up.
///
/// It records the per-wall-clock-second timeline from the run's once-a-second snapshots (chained
/// after any earlier `onSecond` hook) and writes the file atomically when the run ends.
public final class ShardArtifactSink: ReportSink {
    let folder: String
    let shard: ShardSpec
    let identity: ShardArtifact.RunIdentity
    let startAtUnix: Double?
    private let recorder = ShardRecorderBox()

    /// - Parameters:
    ///   - identity: the run's identity (``RunSession/runIdentity(scenario:)``).
    public init(folder: String, shard: ShardSpec, identity: ShardArtifact.RunIdentity, startAtUnix: Double?) {
        self.folder = folder; self.shard = shard; self.identity = identity; self.startAtUnix = startAtUnix
    }

    /// The artifact's path.
    public var path: String { URL(fileURLWithPath: folder).appendingPathComponent(Self.fileName(shard)).path }

    /// `shard-I-of-N.json`.
    public static func fileName(_ shard: ShardSpec) -> String { "shard-\(shard.index)-of-\(shard.count).json" }

    public func prepare(_ lanes: [SessionLane], comparing: Bool) throws(SessionError) {
        if comparing { throw .usage("error: --out: a scenario with a compare: block cannot be sharded") }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .usage("error: --out: cannot create the folder \(folder): \(error.localizedDescription)")
        }
        if let why = ReportRequest.problem(writing: path) { throw .usage("error: --out: cannot write \(path): \(why)") }
        let run = lanes[0].run
        let previous = run.onSecond
        let recorder = self.recorder
        run.onSecond = { snap in
            previous?(snap)
            recorder.add(snap, atUnix: Date().timeIntervalSince1970)
        }
    }

    public func write(_ outcome: SessionOutcome) -> [ReportFailure] {
        let result = outcome.variants[0].result
        // What completed after the last once-a-second snapshot (the drain) goes in at the end.
        recorder.add(result.snapshot, atUnix: result.startedAtUnix + result.snapshot.elapsed.seconds)
        let artifact = ShardArtifact(result: result, shard: shard, identity: identity,
                                     thresholds: result.thresholds.map(\.threshold.spec), timeline: recorder.records,
                                     startAtUnix: startAtUnix, writtenAtUnix: Date().timeIntervalSince1970)
        return writeAtomically(artifact.json(), to: path)
    }
}

/// The timeline recorder, shared between the runner's thread (once a second) and the writer.
final class ShardRecorderBox: @unchecked Sendable {
    private let lock = NSLock()
    private var recorder = ShardTimelineRecorder()
    func add(_ snap: Snapshot, atUnix unix: Double) { lock.withLock { recorder.add(snap, atUnix: unix) } }
    var records: [ShardArtifact.SecondRecord] { lock.withLock { recorder.records } }
}

extension RunSession {
    /// The run's identity for shard artifacts: the scenario's name, a SHA-256 of the scenario
    /// file's bytes, of the overrides that change the load (`-u -r -t --rate`) and of the extra
    /// thresholds, the seed, and the schedule's fingerprint. Two shards agree on it only if they
    /// run the same load under the same gate. `--target` is left out: shards may aim at
    /// different replicas or load balancers of one service.
    public func runIdentity() -> ShardArtifact.RunIdentity {
        var bytes = [UInt8](FileManager.default.contents(atPath: request.file) ?? Data())
        let o = request.overrides
        let overrides = "users=\(o.users.map(String.init) ?? "-") spawn_rate=\(o.spawnRate.map { "\($0)" } ?? "-") "
            + "run_time=\(o.runTime.map { "\($0)" } ?? "-") rate=\(o.rate.map { "\($0)" } ?? "-") "
            + "thresholds=\(request.extraThresholds.joined(separator: "|"))"
        bytes += Array(("\n" + overrides).utf8)
        return ShardArtifact.RunIdentity(scenario: scenario.name, scenarioHash: SHA256.hash(bytes).description,
                                         seed: scenario.seed, scheduleHash: ShardArtifact.scheduleHash(load: scenario.load, seed: scenario.seed))
    }

    /// The shard artifact's sink when `--out` was given.
    func shardSinks() throws(SessionError) -> [any ReportSink] {
        guard let out = request.shardOut else { return [] }
        return [ShardArtifactSink(folder: out, shard: request.shard, identity: runIdentity(), startAtUnix: request.startAtUnix)]
    }

    /// Waits for `--start-at`, if given, saying so on the log.
    func waitForStartAt(output: SessionOutput, stopSignal: @escaping @Sendable () -> Bool) {
        guard let at = request.startAtUnix else { return }
        let label = request.shard.isSingle ? "" : "shard \(request.shard): "
        output.log("cicada: \(label)waiting to start at \(Self.rfc3339(at))")
        let outcome = StartGate.wait(untilUnix: at, nowUnix: { Date().timeIntervalSince1970 },
                                     sleep: { Thread.sleep(forTimeInterval: $0.seconds) }, shouldStop: stopSignal)
        if case .alreadyPassed(let s) = outcome, s > 0.05 {
            output.log("warning: \(label)--start-at \(Self.rfc3339(at)) passed \(Format.number(s, digits: 3)) s ago; starting now")
        }
    }

    /// A Unix time as RFC 3339 UTC with milliseconds.
    static func rfc3339(_ unix: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: unix))
    }

    /// Parses `--start-at`: an RFC 3339 time with a zone (`2026-12-06T04:00:00Z`,
    /// `2026-12-06T05:00:00.250+01:00`); nil when it is not one.
    public static func parseStartAt(_ text: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)?.timeIntervalSince1970
    }
}
