/// The ranges `cicada merge` accepts in a shard artifact: every count (requests, failures,
/// bytes, status codes and failure kinds, histogram counts, token counts, error occurrences, a
/// second's users, dropped and cut-off arrivals, split weights and steps) lies in
/// 0...``ShardLiveState/countLimit`` (2^52), as in a shard's `/live`. A file written by hand or
/// damaged with a count no run reaches is refused when read, naming the key, so adding
/// thousands of artifacts can never overflow and trap the merge (`FuzzArtifact` found that two
/// artifacts whose `requests` added past 2^64 did). The per-task figures and histograms are
/// checked where they are read (``ShardArtifact/Stat``, ``ShardArtifact/Hist``), for `/live`
/// too; this checks the rest of the file.
extension ShardArtifact {
    /// The most shards a run may be split into as read from a file (`cicada merge` lists the
    /// missing ones, so a damaged `shard_count` must not make it build a set of billions).
    public static let maxShardCount = 100_000
}

extension ShardArtifact.File {
    func checkRanges() throws(ShardArtifact.ReadProblem) {
        func check(_ key: String, _ value: UInt64) throws(ShardArtifact.ReadProblem) { try ShardArtifact.Hist.checkCount(key, value) }
        func check(_ key: String, _ value: Int) throws(ShardArtifact.ReadProblem) {
            guard value >= 0, UInt64(value) <= ShardLiveState.countLimit else { throw ShardLiveState.outOfRange(key, "\(value)") }
        }
        try check("dropped", dropped); try check("cut_off", cutOff)
        for (i, e) in errors.enumerated() { try check("errors[\(i)].occurrences", e.occurrences) }
        for (i, s) in shards.enumerated() {
            // Threads of one process: 65,536 is far past any machine, and 100,000 shards of it
            // still add within Int.
            guard (0...65_536).contains(s.workers) else { throw ShardLiveState.outOfRange("shards[\(i)].workers", "\(s.workers)") }
            guard s.cpuSeconds.isFinite, (0...ShardArtifact.maxUnix).contains(s.cpuSeconds) else {
                throw ShardArtifact.ReadProblem(message: "at shards[\(i)].cpu_seconds: \(s.cpuSeconds) is not a number of CPU seconds")
            }
        }
        // One record per second: a second written twice would be added twice.
        var seen = Set<Int64>()
        for (i, t) in timeline.enumerated() where !seen.insert(t.second).inserted {
            throw ShardArtifact.ReadProblem(message: "at timeline[\(i)].second: \(t.second) appears twice")
        }
        for (i, t) in timeline.enumerated() {
            try check("timeline[\(i)].requests", t.requests); try check("timeline[\(i)].failures", t.failures)
            try check("timeline[\(i)].users", t.users)
        }
        if let sp = split {
            for (i, m) in sp.members.enumerated() { try check("split.members[\(i)].weight", m.weight) }
            for (i, s) in sp.steps.enumerated() { try check("split.steps[\(i)]", s) }
            try check("split.min_requests", sp.minRequests)
            for (i, w) in sp.finalWeights.enumerated() { try check("split.final_weights[\(i)]", w) }
            for (k, w) in sp.windows.enumerated() {
                for (i, x) in w.weights.enumerated() { try check("split.windows[\(k)].weights[\(i)]", x) }
            }
        }
    }
}
