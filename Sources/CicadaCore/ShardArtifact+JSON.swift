import Foundation

extension ShardArtifact {
    /// Why a file is not a readable shard artifact; the message says where in it.
    public struct ReadProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The artifact as JSON (`cicada.shard/v1`, keys sorted, so equal artifacts give equal text).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Encoding plain numbers, strings and arrays cannot fail.
        let data = (try? encoder.encode(File(self))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads an artifact from its JSON text.
    ///
    /// - Throws: ``ReadProblem``: not JSON, another schema, a missing or mistyped key (with its
    ///   path), a histogram that does not decode or disagrees with its count, min or max.
    public static func read(_ data: Data) throws(ReadProblem) -> ShardArtifact {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file: File
        do { file = try decoder.decode(File.self, from: data) } catch let e as DecodingError {
            throw ReadProblem(message: describe(e))
        } catch {
            throw ReadProblem(message: "not JSON: \(error)")
        }
        guard file.schema == schema else { throw ReadProblem(message: "schema \"\(file.schema)\" is not \(schema)") }
        return try file.artifact()
    }

    static func describe(_ e: DecodingError) -> String {
        // The file's own key names (snake_case), not the Swift ones.
        func snake(_ key: String) -> String {
            key.reduce(into: "") { out, ch in if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) } }
        }
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\(snake($0.stringValue))" }.joined()
            return p.isEmpty ? "" : " at \(p.hasPrefix(".") ? String(p.dropFirst()) : p)"
        }
        switch e {
        case .dataCorrupted(let c):
            return "not valid JSON\(path(c)) (truncated or damaged): \(c.underlyingError.map { "\($0)" } ?? c.debugDescription)"
        case .keyNotFound(let k, let c): return "key \(snake(k.stringValue)) is missing\(path(c))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    /// The latest Unix time (seconds) an artifact may carry, year 2286: a millisecond or
    /// nanosecond timestamp written by hand is refused, not turned into a trap later.
    static let maxUnix: Double = 9_999_999_999

    /// Refuses a time that is not a Unix time in seconds, naming its key.
    static func checkUnix(_ t: Double, _ at: String) throws(ReadProblem) {
        guard t.isFinite, (0...ShardArtifact.maxUnix).contains(t) else {
            throw ReadProblem(message: "at \(at): \(t) is not a Unix time in seconds (0 to \(Int64(ShardArtifact.maxUnix)))")
        }
    }

    // MARK: The file's shape

    struct Hist: Codable {
        /// Refuses a count past ``ShardLiveState/countLimit`` (see ShardArtifact+Ranges.swift).
        static func checkCount(_ key: String, _ value: UInt64) throws(ReadProblem) {
            guard value <= ShardLiveState.countLimit else { throw ShardLiveState.outOfRange(key, "\(value)") }
        }
        var count: UInt64
        var minUs: UInt64?
        var maxUs: UInt64?
        var sumUs: Double
        /// HdrHistogram V2, compressed, base64.
        var hdr: String
        init(_ h: LatencyHistogram) {
            count = h.count; minUs = h.min; maxUs = h.max; sumUs = h.sumMicros
            hdr = HdrHistogramCodec.encodeBase64(h)
        }
        func histogram(_ at: String) throws(ReadProblem) -> LatencyHistogram {
            try Self.checkCount(at + ".count", count)
            let h: LatencyHistogram
            do { h = try HdrHistogramCodec.decodeBase64(hdr, minMicros: minUs, maxMicros: maxUs, sumMicros: sumUs) } catch {
                throw ReadProblem(message: "at \(at).hdr: \(error.message)")
            }
            guard h.count == count else { throw ReadProblem(message: "at \(at): the histogram holds \(h.count) values, its count says \(count)") }
            return h
        }
    }

    struct LLM: Codable {
        var streams, outputTokens, inputTokens, usageReported, goodRequests: UInt64
        var ttft, firstContent, tpot, itl, e2el: Hist
        init(_ l: LLMStats) {
            streams = l.streams; outputTokens = l.outputTokens; inputTokens = l.inputTokens; usageReported = l.usageReported
            goodRequests = l.goodRequests
            ttft = Hist(l.ttft); firstContent = Hist(l.firstContent); tpot = Hist(l.tpot); itl = Hist(l.itl); e2el = Hist(l.e2el)
        }
        func stats(_ at: String) throws(ReadProblem) -> LLMStats {
            try Hist.checkCount(at + ".streams", streams); try Hist.checkCount(at + ".output_tokens", outputTokens)
            try Hist.checkCount(at + ".input_tokens", inputTokens); try Hist.checkCount(at + ".usage_reported", usageReported)
            try Hist.checkCount(at + ".good_requests", goodRequests)
            var l = LLMStats()
            l.streams = streams; l.outputTokens = outputTokens; l.inputTokens = inputTokens; l.usageReported = usageReported
            l.goodRequests = goodRequests
            l.ttft = try ttft.histogram(at + ".ttft"); l.firstContent = try firstContent.histogram(at + ".first_content")
            l.tpot = try tpot.histogram(at + ".tpot"); l.itl = try itl.histogram(at + ".itl"); l.e2el = try e2el.histogram(at + ".e2el")
            return l
        }
    }

    struct Stat: Codable {
        var name, method: String
        var requests, failures, bytesIn, bytesOut: UInt64
        var failuresByKind: [String: UInt64]
        var statusCodes: [String: UInt64]
        var corrected, raw, ttfb: Hist
        var llm: LLM?
        init(name: String, method: String, _ s: RequestStats) {
            self.name = name; self.method = method; requests = s.requests; failures = s.failures; bytesIn = s.bytesIn; bytesOut = s.bytesOut
            failuresByKind = Dictionary(uniqueKeysWithValues: s.failuresByKind.map { ($0.key.rawValue, $0.value) })
            statusCodes = Dictionary(uniqueKeysWithValues: s.statusCodes.map { (String($0.key), $0.value) })
            corrected = Hist(s.corrected); raw = Hist(s.raw); ttfb = Hist(s.ttfb); llm = s.llm.map(LLM.init)
        }
        func stats(_ at: String) throws(ReadProblem) -> RequestStats {
            try Hist.checkCount(at + ".requests", requests); try Hist.checkCount(at + ".failures", failures)
            try Hist.checkCount(at + ".bytes_in", bytesIn); try Hist.checkCount(at + ".bytes_out", bytesOut)
            for (k, v) in failuresByKind { try Hist.checkCount(at + ".failures_by_kind.\(k)", v) }
            for (k, v) in statusCodes { try Hist.checkCount(at + ".status_codes.\(k)", v) }
            var s = RequestStats()
            s.requests = requests; s.failures = failures; s.bytesIn = bytesIn; s.bytesOut = bytesOut
            for (k, v) in failuresByKind {
                guard let kind = FailureKind(rawValue: k) else { throw ReadProblem(message: "at \(at).failures_by_kind: unknown kind \"\(k)\"") }
                s.failuresByKind[kind] = v
            }
            for (k, v) in statusCodes {
                guard let code = Int(k) else { throw ReadProblem(message: "at \(at).status_codes: \"\(k)\" is not a status code") }
                s.statusCodes[code] = v
            }
            s.corrected = try corrected.histogram(at + ".corrected"); s.raw = try raw.histogram(at + ".raw"); s.ttfb = try ttfb.histogram(at + ".ttfb")
            s.llm = try llm?.stats(at + ".llm")
            return s
        }
    }

    struct ThresholdEntry: Codable {
        var expression: String
        var abortOnFail: Bool
        var delayAbortEvalS: Double
    }

    /// One second of the timeline; `corrected` (the second's latency histogram) is optional,
    /// absent in artifacts written before it was recorded.
    struct Second: Codable {
        var second: Int64
        var requests, failures: UInt64
        var users: Int
        var corrected: Hist?
        init(_ r: SecondRecord) {
            second = r.second; requests = r.requests; failures = r.failures; users = r.users; corrected = r.corrected.map(Hist.init)
        }
        func record(_ at: String) throws(ReadProblem) -> SecondRecord {
            SecondRecord(second: second, requests: requests, failures: failures, users: users, corrected: try corrected?.histogram(at + ".corrected"))
        }
    }

    /// A split run's figures (``SplitRecord``); member stats are named by member, with no method.
    struct SplitFile: Codable {
        struct Member: Codable {
            var name, target: String
            var weight: Int
            var baseline: Bool
            var engine: String?
        }
        struct Window: Codable {
            var weights: [Int]
            var startUnix: Double
            var members: [Stat]
            /// Later shifts folded into this last window; absent (false) in older artifacts.
            var merged: Bool?
        }
        var members: [Member]
        var bounds: [String]
        var steps: [Int]
        var minRequests: Int
        var finalWeights: [Int]
        var stats: [Stat]
        var windows: [Window]

        init(_ r: SplitRecord) {
            members = r.members.map { Member(name: $0.name, target: $0.target, weight: $0.weight, baseline: $0.baseline, engine: $0.engineSummary) }
            bounds = r.bounds.map(\.description)
            steps = r.steps; minRequests = r.minRequests; finalWeights = r.finalWeights
            stats = zip(r.members, r.stats).map { Stat(name: $0.name, method: "", $1) }
            windows = r.windows.map { w in Window(weights: w.weights, startUnix: w.startUnix, members: zip(r.members, w.stats).map { Stat(name: $0.name, method: "", $1) },
                                                merged: w.merged ? true : nil) }
        }

        func record() throws(ReadProblem) -> SplitRecord {
            let n = members.count
            guard n >= 2, members.filter(\.baseline).count == 1 else { throw ReadProblem(message: "at split.members: a split needs two or more members, one of them the baseline") }
            guard stats.count == n else { throw ReadProblem(message: "at split.stats: \(stats.count) entries for \(n) members") }
            guard finalWeights.count == n else { throw ReadProblem(message: "at split.final_weights: \(finalWeights.count) weights for \(n) members") }
            var bs: [RegressionBound] = []
            for (i, b) in bounds.enumerated() {
                do { bs.append(try RegressionBound(parsing: b)) } catch { throw ReadProblem(message: "at split.bounds[\(i)]: \(error)") }
            }
            var whole: [RequestStats] = []
            for (i, s) in stats.enumerated() { whole.append(try s.stats("split.stats[\(i)]")) }
            var ws: [SplitRecord.Window] = []
            for (k, w) in windows.enumerated() {
                guard w.members.count == n, w.weights.count == n else {
                    throw ReadProblem(message: "at split.windows[\(k)]: \(w.members.count) members and \(w.weights.count) weights for \(n) members")
                }
                try ShardArtifact.checkUnix(w.startUnix, "split.windows[\(k)].start_unix")
                var st: [RequestStats] = []
                for (i, s) in w.members.enumerated() { st.append(try s.stats("split.windows[\(k)].members[\(i)]")) }
                ws.append(SplitRecord.Window(weights: w.weights, startUnix: w.startUnix, stats: st, merged: w.merged ?? false))
            }
            return SplitRecord(members: members.map { SplitSpec.Member(name: $0.name, target: $0.target, weight: $0.weight, baseline: $0.baseline, engineSummary: $0.engine) },
                               bounds: bs, steps: steps, minRequests: minRequests, finalWeights: finalWeights, stats: whole, windows: ws)
        }
    }

    /// The whole file; each task's stats carry its name so the file reads on its own.
    struct File: Codable {
        var schema: String
        var cicadaVersion: String
        var identity: RunIdentity
        var shardCount: Int
        var shards: [ShardRecord]
        var target, modelDescription: String
        var thresholds: [ThresholdEntry]
        var goodputConfigured: Bool
        var tasks: [Stat]
        var scheduleLag: Hist
        var dropped, cutOff: UInt64
        var errors: [ErrorRecord]
        var timeline: [Second]
        var events: [EventRecord]
        /// A split run's figures; absent without a split (and in older artifacts).
        var split: SplitFile?

        init(_ a: ShardArtifact) {
            schema = ShardArtifact.schema; cicadaVersion = a.cicadaVersion; identity = a.identity; shardCount = a.shardCount
            shards = a.shards; target = a.target; modelDescription = a.modelDescription
            thresholds = a.thresholds.map { ThresholdEntry(expression: $0.expression, abortOnFail: $0.abortOnFail, delayAbortEvalS: $0.delayAbortEval.seconds) }
            goodputConfigured = a.goodputConfigured
            tasks = a.names.indices.map { Stat(name: a.names[$0], method: a.methods[$0], a.perStat[$0]) }
            scheduleLag = Hist(a.scheduleLag); dropped = a.dropped; cutOff = a.cutOff
            errors = a.errors; timeline = a.timeline.map(Second.init); events = a.events
            split = a.split.map(SplitFile.init)
        }

        func artifact() throws(ReadProblem) -> ShardArtifact {
            try checkRanges()
            guard (1...ShardArtifact.maxShardCount).contains(shardCount) else {
                throw ReadProblem(message: "at shard_count: \(shardCount) is not a shard count (1 to \(ShardArtifact.maxShardCount))")
            }
            guard !shards.isEmpty else { throw ReadProblem(message: "at shards: no shard record") }
            for (i, s) in shards.enumerated() where !(0..<shardCount).contains(s.index) {
                throw ReadProblem(message: "at shards[\(i)].index: \(s.index) is not a shard of \(shardCount)")
            }
            guard Set(shards.map(\.index)).count == shards.count else { throw ReadProblem(message: "at shards: a shard index appears twice") }
            for (i, s) in shards.enumerated() {
                try ShardArtifact.checkUnix(s.startedAtUnix, "shards[\(i)].started_at_unix")
                try ShardArtifact.checkUnix(s.writtenAtUnix, "shards[\(i)].written_at_unix")
                if let at = s.startAtUnix { try ShardArtifact.checkUnix(at, "shards[\(i)].start_at_unix") }
                guard s.measuredSeconds.isFinite, (0...ShardArtifact.maxUnix).contains(s.measuredSeconds) else {
                    throw ReadProblem(message: "at shards[\(i)].measured_seconds: \(s.measuredSeconds) is not a number of seconds a run measured")
                }
            }
            for (i, e) in errors.enumerated() {
                try ShardArtifact.checkUnix(e.firstSeenUnix, "errors[\(i)].first_seen_unix")
                try ShardArtifact.checkUnix(e.lastSeenUnix, "errors[\(i)].last_seen_unix")
            }
            for (i, e) in events.enumerated() { try ShardArtifact.checkUnix(e.unix, "events[\(i)].unix") }
            for (i, t) in timeline.enumerated() where !(0...Int64(ShardArtifact.maxUnix)).contains(t.second) {
                throw ReadProblem(message: "at timeline[\(i)].second: \(t.second) is not a Unix time in seconds (0 to \(Int64(ShardArtifact.maxUnix)))")
            }
            var perStat: [RequestStats] = []
            for (i, t) in tasks.enumerated() { perStat.append(try t.stats("tasks[\(i)]")) }
            var seconds: [SecondRecord] = []
            for (i, t) in timeline.enumerated() { seconds.append(try t.record("timeline[\(i)]")) }
            for (i, t) in thresholds.enumerated() {
                do { _ = try Threshold(ThresholdSpec(t.expression)) } catch {
                    throw ReadProblem(message: "at thresholds[\(i)]: \(error.message)")
                }
            }
            var artifact = ShardArtifact(cicadaVersion: cicadaVersion, identity: identity, shardCount: shardCount, shards: shards, target: target,
                                 modelDescription: modelDescription,
                                 thresholds: thresholds.map { ThresholdSpec($0.expression, abortOnFail: $0.abortOnFail, delayAbortEval: .fromSeconds($0.delayAbortEvalS)) },
                                 goodputConfigured: goodputConfigured, names: tasks.map(\.name), methods: tasks.map(\.method),
                                 perStat: perStat, scheduleLag: try scheduleLag.histogram("schedule_lag"), dropped: dropped, cutOff: cutOff,
                                 errors: errors, timeline: seconds, events: events)
            artifact.split = try split?.record()
            return artifact
        }
    }
}
