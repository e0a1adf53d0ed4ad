import CicadaCore
import CicadaTransport
import Foundation
import Synchronization

/// What `cicada dash --shards` knows of the shards, poll after poll: each shard's last
/// ``ShardLiveState`` (from `GET /live`), when it last answered, and the answer to the last
/// load key sent to it. From them it builds the merged ``Snapshot`` the dashboard draws
/// (``ShardLiveState/merged(_:)``: histograms added, so percentiles are exact), one timeline
/// point a poll, and a line per shard.
///
/// A shard that stops answering keeps its last figures in the merge (its counts so far are
/// still true; a finished shard's are final) and shows as stale in the shard table. Time is
/// passed in (seconds on any monotonic clock), so tests drive it without sleeping.
public struct ShardLiveFeed: Sendable {
    /// One shard as the shard table shows it.
    public struct Shard: Sendable, Equatable {
        /// The shard's index (from its state; its position in the list until it answers).
        public var index: Int
        /// Its status server's base URL.
        public var url: String
        /// Whether it answered the last poll.
        public var up: Bool
        /// Seconds since it last answered; nil if it never did.
        public var ageSeconds: Double?
        /// Whether its run has finished, or is paused (from its last state).
        public var finished: Bool
        public var paused: Bool
        /// Requests per second over its sliding window, and its p99 there (µs, corrected);
        /// nil before it answered or with no request in the window.
        public var qps: Double?
        public var p99Micros: UInt64?
        /// Why the last poll failed, when it did.
        public var problem: String?
        /// The answer to the last load key: "ok: ..." or the failure.
        public var ack: String?
        /// Its arrival-rate multiplier now (open model; nil for the closed model or before it answered).
        public var rateScale: Double?
    }

    /// The shards' base URLs (`http://host:port`), in the order given.
    public let urls: [String]
    /// Each shard's last state; nil before its first answer.
    public private(set) var states: [ShardLiveState?]
    private var lastSeen: [Double?]
    private var up: [Bool]
    private var problems: [String?]
    private var acks: [String?]
    private var previous: (t: Double, requests: UInt64, failures: UInt64)?
    /// Each shard's elapsed time at the last point: a point needs one of them to have moved.
    private var lastElapsed: [Double]?

    /// A feed for shards at `urls` (base URLs; see ``ShardDash/baseURL(_:)``).
    public init(urls: [String]) {
        self.urls = urls
        states = Array(repeating: nil, count: urls.count); lastSeen = states.map { _ in nil }
        up = states.map { _ in false }; problems = states.map { _ in nil }; acks = states.map { _ in nil }
    }

    /// Whether any shard has answered yet.
    public var anyAnswered: Bool { states.contains { $0 != nil } }
    /// How many shards answered the last poll.
    public var answering: Int { up.filter { $0 }.count }

    /// Takes one poll's answers (one per URL: a state, or why there is none), made at `now`.
    /// Returns the merged snapshot and a timeline point: requests and failures per second
    /// since the previous point, latency percentiles over the merged sliding window. The point
    /// is nil when no shard's figures moved on since the previous one (a shard's status server
    /// takes new figures once a second, so polling faster would chart zeros between them).
    /// Nil before any shard answered.
    public mutating func take(_ answers: [Result<ShardLiveState, ShardDash.PollFailure>], at now: Double) -> (snapshot: Snapshot, point: TimelinePoint?)? {
        for (i, a) in answers.enumerated() where i < urls.count {
            switch a {
            case .success(let s): states[i] = s; lastSeen[i] = now; up[i] = true; problems[i] = nil
            case .failure(let f): up[i] = false; problems[i] = f.message
            }
        }
        guard let snap = mergedSnapshot else { return nil }
        let elapsed = states.map { $0?.elapsedSeconds ?? 0 }
        if let last = lastElapsed, last == elapsed { return (snap, nil) }
        lastElapsed = elapsed
        let total = snap.total
        var qps = 0.0, fails = 0.0
        if let p = previous, now > p.t, total.requests >= p.requests, total.failures >= p.failures {
            qps = Double(total.requests - p.requests) / (now - p.t)
            fails = Double(total.failures - p.failures) / (now - p.t)
        } else if previous == nil, snap.measuredSeconds > 0 {
            // The first poll: the run's average so far.
            qps = Double(total.requests) / snap.measuredSeconds
            fails = Double(total.failures) / snap.measuredSeconds
        }
        previous = (now, total.requests, total.failures)
        let window = snap.window?.total.corrected
        func ms(_ p: Double) -> Double? { window?.percentile(p).map { Double($0) / 1000 } }
        let point = TimelinePoint(t: snap.elapsed.seconds, users: snap.gauges.users, qps: qps, failuresPerSecond: fails,
                                  p50Millis: ms(50), p95Millis: ms(95), p99Millis: ms(99))
        return (snap, point)
    }

    /// The shards' last states added together; nil before any answered (or when the shards run
    /// different scenarios, which ``ShardLiveState/merged(_:)`` refuses).
    public var mergedSnapshot: Snapshot? { ShardLiveState.merged(states.compactMap { $0 }) }

    /// The thresholds the shards sent (each expression once), judged on `snapshot`, their
    /// merged figures: one verdict for the whole run, as `cicada merge` gives at the end, or
    /// "partial: N of M shards" where only some shards sent what a threshold reads
    /// (``ShardLiveState/thresholdResults(_:on:)``). Nil when no shard sent thresholds (shards
    /// of an older version).
    public func thresholdResults(on snapshot: Snapshot) -> [ThresholdResult]? {
        ShardLiveState.thresholdResults(states.compactMap { $0 }, on: snapshot)
    }

    /// The p99 latency bound of the shards' thresholds (the chart's threshold line), in ms;
    /// read afresh each time, so it appears once any shard sends it.
    public var p99ThresholdMillis: Double? { ShardLiveState.p99ThresholdMillis(states.compactMap { $0 }) }

    /// The shards' embedded engines added into one panel; nil when no shard sent an engine.
    public var mergedEngines: ShardLiveState.MergedEngines? { ShardLiveState.mergedEngines(states.compactMap { $0 }) }

    /// Records the answer to a load key sent to shard `i`.
    public mutating func acknowledge(_ ack: String, shard i: Int) { if acks.indices.contains(i) { acks[i] = ack } }

    /// One line per shard at `now`.
    public func shards(at now: Double) -> [Shard] {
        urls.indices.map { i in
            let s = states[i]
            let w = s?.window
            var total = RequestStats()
            for st in w?.perStat ?? [] { total.merge(st) }
            let qps: Double? = w.flatMap { $0.spanSeconds > 0 ? Double(total.requests) / $0.spanSeconds : nil }
            return Shard(index: s?.shardIndex ?? i, url: urls[i], up: up[i], ageSeconds: lastSeen[i].map { now - $0 },
                         finished: s?.finished ?? false, paused: s?.paused ?? false, qps: qps,
                         p99Micros: total.corrected.percentile(99), problem: problems[i], ack: acks[i],
                         rateScale: s.flatMap { $0.isOpenModel ? $0.rateScale : nil })
        }
    }

    /// The shards that have answered run the open model (arrival rate) rather than the closed one.
    public var isOpenModel: Bool { states.compactMap { $0 }.first?.isOpenModel ?? false }
    /// The scenario's name, from the first shard that answered.
    public var scenario: String? { states.compactMap { $0 }.first?.scenario }
}

extension ShardDash {
    /// Why a poll of one shard got no state: the transport error, HTTP status or read problem.
    public struct PollFailure: Error, Sendable, Equatable { public var message: String }

    /// A shard's base URL (`http://host:port`) from a scrape URL as ``urls(_:file:)`` returns
    /// it: a trailing `/metrics` (or `/live`, `/status`) is cut off.
    public static func baseURL(_ url: String) -> String {
        for suffix in ["/metrics", "/live", "/status"] where url.hasSuffix(suffix) { return String(url.dropLast(suffix.count)) }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// One poll of every shard's `GET /live`, side by side.
    public static func pollLive(_ bases: [String], timeout: Duration) -> [Result<ShardLiveState, PollFailure>] {
        let out = Mutex([Result<ShardLiveState, PollFailure>](repeating: .failure(PollFailure(message: "not polled")), count: bases.count))
        DispatchQueue.concurrentPerform(iterations: bases.count) { i in
            let r: Result<ShardLiveState, PollFailure>
            do {
                let body = try HTTPGet.fetch(bases[i] + "/live", timeout: timeout)
                do { r = .success(try ShardLiveState.read(Data(body))) } catch { r = .failure(PollFailure(message: "\(bases[i])/live: \(error)")) }
            } catch {
                r = .failure(PollFailure(message: "\(error)"))
            }
            out.withLock { $0[i] = r }
        }
        return out.withLock { $0 }
    }

    /// Sends `command` to every shard's `POST /control` side by side (with `Authorization:
    /// Bearer token` when given); one answer per shard: "ok", or why it failed (the transport
    /// error, or the HTTP status and the shard's message; the shard's URL left out).
    public static func send(_ command: ShardControlCommand, to bases: [String], token: String?, timeout: Duration = .seconds(3)) -> [Result<String, PollFailure>] {
        let out = Mutex([Result<String, PollFailure>](repeating: .failure(PollFailure(message: "not sent")), count: bases.count))
        let headers: [(name: String, value: String)] = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        DispatchQueue.concurrentPerform(iterations: bases.count) { i in
            let r: Result<String, PollFailure>
            do {
                try HTTPHook.send(HookSpec(method: "POST", path: bases[i] + "/control", body: command.body), base: bases[i],
                                  headers: headers, insecure: false, timeout: timeout)
                r = .success("ok")
            } catch {
                // The table shows the URL beside the answer: keep only what went wrong.
                let prefix = "POST \(bases[i])/control: "
                let text = "\(error)"
                r = .failure(PollFailure(message: text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text))
            }
            out.withLock { $0[i] = r }
        }
        return out.withLock { $0 }
    }
}
