import CicadaCore
import CicadaReport
import Foundation

/// What `cicada merge` was asked: the artifacts, the reports, how many shards must be there.
public struct MergeRequest: Sendable {
    /// Artifact files, or folders whose `shard-*.json` files are read.
    public var inputs: [String]
    /// The reports to write, as `cicada run` writes them.
    public var reports: ReportRequest
    /// Fewer shards than this fails the merge (exit 99); nil: every shard of the run.
    public var minShards: Int?
    /// Write the merged artifact here too (it merges again like any artifact).
    public var artifact: String?
    /// Plain ASCII marks in the summary.
    public var plain: Bool
    /// Clock skew between shards beyond this many seconds is warned about.
    public var skewBound: Double
    public init(inputs: [String], reports: ReportRequest = ReportRequest(), minShards: Int? = nil, artifact: String? = nil,
                plain: Bool = false, skewBound: Double = 0.05) {
        self.inputs = inputs; self.reports = reports; self.minShards = minShards; self.artifact = artifact
        self.plain = plain; self.skewBound = skewBound
    }
}

/// `cicada merge`: adds shard artifacts into one run, prints the normal summary, writes the
/// normal reports and chooses the exit status as a single run would.
public enum MergeSession {
    /// The files `inputs` name: each file as given, each folder's `shard-*.json` by name.
    ///
    /// - Throws: ``SessionError`` (usage) for a path that does not exist, or no artifact at all.
    public static func files(_ inputs: [String]) throws(SessionError) -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw .usage("error: \(input): no such file or folder")
            }
            if isDir.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []
                files += names.filter { $0.hasPrefix("shard-") && $0.hasSuffix(".json") }.sorted()
                    .map { URL(fileURLWithPath: input).appendingPathComponent($0).path }
            } else {
                files.append(input)
            }
        }
        guard !files.isEmpty else { throw .usage("error: no shard artifacts (shard-*.json) in \(inputs.joined(separator: ", "))") }
        return files
    }

    /// Reads one artifact; a file that cannot be read or is not a valid artifact is a usage
    /// error naming it.
    public static func read(_ file: String) throws(SessionError) -> ShardArtifact {
        guard let data = FileManager.default.contents(atPath: file) else { throw .usage("error: \(file): cannot be read") }
        do { return try ShardArtifact.read(data) } catch { throw .usage("error: \(file): not a usable shard artifact: \(error.message)") }
    }

    /// Reads `files` and merges them; another run's artifact (scenario, seed, schedule, shard
    /// count) or a shard given twice is a usage error naming the file.
    public static func merge(_ files: [String]) throws(SessionError) -> (artifact: ShardArtifact, fileTimes: [Int: Double]) {
        var merged: ShardArtifact?
        var fileTimes: [Int: Double] = [:]
        for file in files {
            let a = try read(file)
            if a.shards.count == 1, let attrs = try? FileManager.default.attributesOfItem(atPath: file),
               let m = attrs[.modificationDate] as? Date {
                fileTimes[a.shards[0].index] = m.timeIntervalSince1970
            }
            guard let acc = merged else { merged = a; continue }
            do { merged = try acc.merged(with: a) } catch {
                throw .usage("error: \(file): refused: \(error.message) (merging with \(files[0]))")
            }
        }
        return (merged!, fileTimes)
    }

    /// Runs the merge: reads, merges, prints, writes; returns the exit status.
    public static func run(_ request: MergeRequest, output: SessionOutput) throws(SessionError) -> Int32 {
        if let k = request.minShards, k < 1 { throw .usage("error: --min-shards \(k): must be at least 1") }
        try request.reports.checkPaths()
        let (artifact, fileTimes) = try merge(try files(request.inputs))
        let minShards = request.minShards ?? artifact.shardCount
        let present = artifact.shards.count
        let missing = artifact.missingShards
        let failsShort = present < minShards
        var result = artifact.runResult()
        // Intervals from the merged per-second windows, as a single run's (the run's seed).
        result.computeIntervals(repetitions: [result], seed: artifact.identity.seed)
        if !missing.isEmpty {
            let detail = "missing shard\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) of \(artifact.shardCount)"
            result.events.append(RunEvent(t: result.snapshot.measuredSeconds, kind: "partial", detail: detail))
        }
        result.diagnoses = DiagnosisRules().evaluate(DiagnosisFacts(result: result))
        for w in artifact.skewWarnings(bound: request.skewBound, fileTimes: fileTimes) { output.log("warning: clock skew: \(w)") }

        var text = "MERGED \(present) of \(artifact.shardCount) shards (\(artifact.shardIndexes.map(String.init).joined(separator: ", ")))"
        if !missing.isEmpty {
            text += "\nPARTIAL: missing shard\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", "))"
            text += failsShort ? " — fewer than --min-shards \(minShards): FAILED" : " — at least --min-shards \(minShards): warning only"
        }
        output.summary(text + "\n\n")
        var summary = SummaryPrinter(plain: request.plain).render(result)
        if let llm = LLMReport.text(result, goodputConfigured: result.goodputConfigured) { summary += "\n" + llm }
        if let sp = SplitReport.text(result, plain: request.plain) { summary += "\n" + sp }
        if let c = ConfidenceReport.text(result) { summary += "\n" + c }
        output.summary(summary)

        let outcome = SessionOutcome(scenarioName: result.scenarioName, variants: [VariantResult(name: result.scenarioName, config: result.target, result: result)],
                                     comparison: nil)
        var failures = request.reports.sinks().flatMap { $0.write(outcome) }
        if let path = request.artifact { failures += writeAtomically(artifact.json(), to: path) }
        for f in failures { output.log("error: cannot write report \(f)") }
        if failsShort { output.log("error: only \(present) of \(artifact.shardCount) shards merged, --min-shards is \(minShards)") }
        let status = RunSession.exitStatus([result], reportFailures: failures, signalled: false)
        if status == ExitStatus.ok && failsShort { return ExitStatus.thresholdsFailed }
        return status
    }
}
