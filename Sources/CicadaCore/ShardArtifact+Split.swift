/// A `split:` run's per-member figures in a shard artifact, so `cicada merge` reports the same
/// SPLIT section, step windows and canary verdict as one machine sending the whole schedule.
extension ShardArtifact {
    /// A split run's members, bounds, whole-run stats per member and stats per step window,
    /// kept whole (histograms and counters) so shards add up exactly.
    public struct SplitRecord: Sendable, Equatable {
        /// One step window: the weights in force, when it began (Unix seconds) and each member's stats.
        public struct Window: Sendable, Equatable {
            public var weights: [Int]
            public var startUnix: Double
            /// One entry per member, in the members' order (empty stats: no request).
            public var stats: [RequestStats]
            /// True for a last window that later shifts folded into (``SplitStepWindow/merged``:
            /// more than ``SplitSpec/maxStepWindows``), so a merged run labels it as one machine does.
            public var merged: Bool
            public init(weights: [Int], startUnix: Double, stats: [RequestStats], merged: Bool = false) {
                self.weights = weights; self.startUnix = startUnix; self.stats = stats; self.merged = merged
            }
        }

        /// The split's members (names, targets, weights as written, baseline), bounds, steps and
        /// the step windows' minimum requests: the scenario's `split:` block.
        public var members: [SplitSpec.Member]
        public var bounds: [RegressionBound]
        public var steps: [Int]
        public var minRequests: Int
        /// The weights in force when the run ended.
        public var finalWeights: [Int]
        /// Each member's stats over the whole run (empty stats: no request).
        public var stats: [RequestStats]
        /// The step windows, in order; empty when the shards' windows did not line up.
        public var windows: [Window]

        public init(members: [SplitSpec.Member], bounds: [RegressionBound], steps: [Int], minRequests: Int, finalWeights: [Int],
                    stats: [RequestStats], windows: [Window]) {
            self.members = members; self.bounds = bounds; self.steps = steps; self.minRequests = minRequests
            self.finalWeights = finalWeights; self.stats = stats; self.windows = windows
        }

        /// The record of `result`'s split (nil without one), from its snapshot's `.target`
        /// groups and step windows; `startUnix` is the run's start on the wall clock.
        public init?(result: RunResult) {
            guard let split = result.split else { return nil }
            let snap = result.snapshot
            members = split.members.map { SplitSpec.Member(name: $0.name, target: $0.target, weight: $0.weight, baseline: $0.baseline, engineSummary: $0.engineSummary) }
            bounds = split.bounds
            steps = split.steps
            minRequests = split.minRequests
            finalWeights = split.members.map(\.finalWeight)
            stats = split.members.map { m in
                snap.groupKeys.firstIndex(of: .target(m.name)).flatMap { $0 < snap.groups.count ? snap.groups[$0] : nil } ?? RequestStats()
            }
            windows = split.windows.map { w in
                Window(weights: w.weights, startUnix: result.startedAtUnix + w.startSeconds, stats: w.stats.map { $0 ?? RequestStats() },
                       merged: w.merged)
            }
        }

        /// This record plus another shard's: stats added member by member and window by window.
        /// Windows line up when both have the same number with the same weights (each shard
        /// took the same shifts); a part with no window (no split request reached that shard)
        /// is neutral; otherwise the merge keeps only the whole-run figures. Nil when the
        /// members differ.
        func merged(with o: SplitRecord) -> SplitRecord? {
            guard o.members.map(\.name) == members.map(\.name) else { return nil }
            var out = self
            for i in out.stats.indices where i < o.stats.count { out.stats[i].merge(o.stats[i]) }
            if o.windows.isEmpty {
                // Nothing to add: keep this part's windows.
            } else if windows.isEmpty {
                out.windows = o.windows
            } else if windows.count == o.windows.count, zip(windows, o.windows).allSatisfy({ $0.weights == $1.weights }) {
                for k in out.windows.indices {
                    out.windows[k].startUnix = Swift.min(windows[k].startUnix, o.windows[k].startUnix)
                    out.windows[k].merged = windows[k].merged || o.windows[k].merged
                    for i in out.windows[k].stats.indices where i < o.windows[k].stats.count { out.windows[k].stats[i].merge(o.windows[k].stats[i]) }
                }
            } else {
                out.windows = []
            }
            return out
        }

        /// The ``SplitResult`` of the merged run: `base` is the notional clock's reading at
        /// `startUnix`, the run's start (``ShardArtifact/runResult()``).
        func result(snapshot: Snapshot, startUnix: Double, base: UInt64) -> SplitResult {
            let spec = SplitSpec(members: members, bounds: bounds, steps: steps, minRequests: minRequests)
            var snap = snapshot
            snap.groupKeys = members.map { .target($0.name) }
            snap.groups = stats
            snap.splitSteps = windows.flatMap { w in (0..<members.count).map { $0 < w.stats.count ? w.stats[$0] : RequestStats() } }
            let shifts = windows.dropFirst().map { SplitShift(atNanos: ShardArtifact.notionalNanos($0.startUnix, start: startUnix, base: base), weights: $0.weights) }
            var result = SplitResult(spec: spec, snapshot: snap, finalWeights: finalWeights, shifts: shifts, runStartNanos: base)
            // The folded last window keeps its label ("and later steps").
            for k in result.windows.indices where k < windows.count && windows[k].merged { result.windows[k].merged = true }
            return result
        }
    }
}

extension ShardArtifact {
    /// A wall-clock time as nanoseconds on a merged run's notional clock, which reads `base` at
    /// `start`: never before `base`, clamped at `UInt64.max`, and `base` for a time that is
    /// not a number, so a hand-edited time cannot trap.
    static func notionalNanos(_ unix: Double, start: Double, base: UInt64) -> UInt64 {
        let d = ((unix - start) * 1e9).rounded()
        guard !d.isNaN, d > 0 else { return base }
        // 2^64 is the first Double past UInt64's range.
        guard d < 18_446_744_073_709_551_616.0 else { return .max }
        let n = UInt64(d)
        return n > UInt64.max - base ? UInt64.max : base + n
    }
}
