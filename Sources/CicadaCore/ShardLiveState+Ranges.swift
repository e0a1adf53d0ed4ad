/// The ranges `cicada dash --shards` accepts in a shard's `/live`: a shard answering nonsense
/// (a negative gauge, a count no run reaches) is refused when read, so it shows as an error
/// for that shard in the shard table and its figures never enter the merge; and the merge adds
/// with saturating sums (``added(_:_:)``, `RequestStats.merge`), so whatever gets past the check
/// cannot trap the dashboard.
extension ShardLiveState {
    /// The largest count or gauge a shard may send: 2^52 (about 4.5e15, exact as a JSON
    /// double); no run reaches it (a million requests a second for over a century). Merges add
    /// with saturating sums, so any number of shards at this bound adds without trapping
    /// (histograms have their own, lower bound: `HdrHistogramCodec.maxCount`).
    public static let countLimit: UInt64 = 1 << 52

    /// `a + b`, or the type's largest value where the sum would overflow (and its smallest
    /// where it would underflow): merging shards never traps.
    static func added<T: FixedWidthInteger>(_ a: T, _ b: T) -> T { a.addingSaturating(b) }

    /// Checks every gauge and count against 0...``countLimit``.
    ///
    /// - Throws: ``ShardArtifact/ReadProblem`` naming the first key out of range.
    func checkRanges() throws(ShardArtifact.ReadProblem) {
        func check(_ key: String, _ value: Int?) throws(ShardArtifact.ReadProblem) {
            guard let value else { return }
            guard value >= 0, UInt64(value) <= Self.countLimit else { throw Self.outOfRange(key, "\(value)") }
        }
        func check(_ key: String, _ value: UInt64?) throws(ShardArtifact.ReadProblem) {
            guard let value, value > Self.countLimit else { return }
            throw Self.outOfRange(key, "\(value)")
        }
        try check("users", users); try check("in_flight", inFlight); try check("target_users", targetUsers)
        try check("dropped", dropped); try check("cut_off", cutOff)
        guard userOffset.magnitude <= Self.countLimit else { throw Self.outOfRange("user_offset", "\(userOffset)") }
        for (i, e) in errors.enumerated() { try check("errors[\(i)].occurrences", e.occurrences) }
        func checkStats(_ path: String, _ stats: [RequestStats]) throws(ShardArtifact.ReadProblem) {
            for (i, st) in stats.enumerated() {
                try check("\(path)[\(i)].requests", st.requests); try check("\(path)[\(i)].failures", st.failures)
                try check("\(path)[\(i)].bytes_in", st.bytesIn); try check("\(path)[\(i)].bytes_out", st.bytesOut)
            }
        }
        try checkStats("tasks", perStat)
        if let window { try checkStats("window.tasks", window.perStat) }
        for (k, w) in extraWindows.enumerated() { try checkStats("windows[\(k)].tasks", w.perStat) }
        if let e = engine {
            try check("engine.queue_size", e.queueSize); try check("engine.max_batch_size", e.maxBatchSize)
            try check("engine.executions", e.executions); try check("engine.inferences", e.inferences)
            for (size, n) in e.batchSizes.sorted(by: { $0.key < $1.key }) {
                guard let s = Int(size), s >= 0, UInt64(s) <= Self.countLimit else { throw Self.outOfRange("engine.batch_sizes", "key \"\(size)\"") }
                try check("engine.batch_sizes.\(size)", n)
            }
        }
    }

    static func outOfRange(_ key: String, _ value: String) -> ShardArtifact.ReadProblem {
        ShardArtifact.ReadProblem(message: "at \(key): \(value) is out of range (0...\(countLimit))")
    }
}
