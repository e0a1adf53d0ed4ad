/// A scenario's `split:` block: one load divided between two or more targets by weight, as a
/// canary roll-out divides production traffic between the stable release and a canary.
///
/// Every request goes to exactly one member, chosen by ``SplitChooser`` from the run's seed, so
/// the same seed sends the same requests to the canary and the counts match the weights to
/// within a few requests. The members are judged against the baseline by ``SplitVerdict``.
public struct SplitSpec: Sendable, Equatable {
    /// One target of the split.
    public struct Member: Sendable, Equatable {
        /// The member's name, unique in the block; it labels the reports and the dashboard.
        public var name: String
        /// Where its share of the load goes. An embedded-engine member holds a placeholder until
        /// the session has started its engine and knows the port.
        public var target: String
        /// Its share of the load, relative to the other members' weights (positive).
        public var weight: Int
        /// Whether it is the stable release the others are judged against (exactly one is).
        public var baseline: Bool
        /// A short description of the member's embedded engine; nil for a server of the user's.
        public var engineSummary: String?

        public init(name: String, target: String, weight: Int, baseline: Bool, engineSummary: String? = nil) {
            self.name = name; self.target = target; self.weight = weight; self.baseline = baseline; self.engineSummary = engineSummary
        }
    }

    /// The members, in the file's order.
    public var members: [Member]
    /// How much worse than the baseline each other member may be (`verdict:`), as
    /// ``RegressionBound``s on the aggregated figures (`p(99)=+10%`, `error_rate=+1%`).
    public var bounds: [RegressionBound]
    /// The canary's share, in percent of the load, at each promotion step (`steps:`), rising;
    /// empty when the weights stay as written. Only a two-member split has steps.
    public var steps: [Int]
    /// The fewest requests each side (the baseline and the member judged) needs in a step window
    /// for that window's checks to be judged (`min_requests:`); fewer is "not enough data".
    public var minRequests: Int

    public init(members: [Member], bounds: [RegressionBound] = [], steps: [Int] = [], minRequests: Int = SplitSpec.defaultMinRequests) {
        self.members = members; self.bounds = bounds; self.steps = steps; self.minRequests = minRequests
    }

    /// The baseline member's index (the first member when none is marked, which the reader refuses).
    public var baselineIndex: Int { members.firstIndex(where: \.baseline) ?? 0 }
    /// The one non-baseline member of a two-member split; nil when there are more.
    public var canaryIndex: Int? { members.count == 2 ? 1 - baselineIndex : nil }
    /// The weights as written.
    public var weights: [Int] { members.map(\.weight) }

    /// The canary's share of the written weights, in percent (rounded); nil without a single canary.
    public var canaryPercent: Int? {
        guard let c = canaryIndex else { return nil }
        let total = members.reduce(0) { $0 + $1.weight }
        return total > 0 ? Int((Double(members[c].weight) * 100 / Double(total)).rounded()) : nil
    }

    /// The weights that give the canary `percent` of the load and the baseline the rest (a
    /// two-member split; the written weights otherwise).
    public func weights(canaryPercent percent: Int) -> [Int] {
        guard let c = canaryIndex else { return weights }
        var w = [0, 0]
        w[c] = min(100, max(0, percent))
        w[1 - c] = 100 - w[c]
        return w
    }

    /// The next step above `percent` (promote), or nil when the canary already has the last step.
    public func promoted(from percent: Int) -> Int? { steps.first { $0 > percent } }

    /// The step below `percent` (roll back): the highest step under it, or 0 (no load on the
    /// canary) below the first step; nil when the canary already has none.
    public func rolledBack(from percent: Int) -> Int? {
        guard percent > 0 else { return nil }
        return steps.last { $0 < percent } ?? 0
    }
}

/// Chooses each request's split member from the run's seed: a low-discrepancy (Weyl) sequence
/// rather than independent dice, so the split is exact and repeatable.
///
/// Each request has a key: an open-model arrival its index in the schedule; a closed-model
/// user's request the user's id and its number among that user's requests. The key maps to a
/// point `u` in [0, 1): `u = frac(s + n·φ)` for arrival `n`, `u = frac(s + i·α + j·φ)` for user
/// `i`'s request `j`, with `φ = (√5−1)/2`, `α = √2−1` and `s` drawn from the seed (fixed point,
/// 64 bits, so wrapping arithmetic is exact). The members own consecutive slices of [0, 1) in
/// proportion to their weights, the non-baseline members first; the request goes to the member
/// whose slice holds `u`. Weyl sequences fill [0, 1) evenly (any N consecutive points put
/// N·w ± O(log N) of them in a slice of width w), so over a run each member's count is its
/// weight's share to within a few requests, not the ±√N of independent draws; a key is the
/// same in every run with the same seed, so the same requests go to the canary. Because the
/// canary's slice starts at 0, raising its weight only adds requests to it: a request the canary
/// served at 10 % it also serves at 25 %.
public struct SplitChooser: Sendable, Equatable {
    /// `(√5−1)/2` and `√2−1` as 64-bit fractions.
    static let phi: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let alpha: UInt64 = 0x6A09_E667_F3BC_C908

    /// The members' weights, as given.
    public let weights: [Int]
    /// Member indexes in slice order (non-baseline first), and each slice's cumulative end.
    let order: [Int]
    let cumulative: [UInt64]
    let total: UInt64
    let offset: UInt64

    /// A chooser for `weights` (negative counts as 0), with member `baseline` last.
    public init(weights: [Int], baseline: Int, seed: UInt64) {
        self.weights = weights
        order = weights.indices.filter { $0 != baseline } + (weights.indices.contains(baseline) ? [baseline] : [])
        var acc: UInt64 = 0
        cumulative = order.map { acc += UInt64(max(0, weights[$0])); return acc }
        total = acc
        // SplitMix64 of the seed: neighbouring seeds give unrelated offsets.
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        offset = z ^ (z >> 31)
    }

    /// The point in [0, 1) (as a 64-bit fraction) of an open-model arrival `index`.
    public func point(arrival index: UInt64) -> UInt64 { offset &+ index &* Self.phi }
    /// The point of closed-model user `user`'s request number `request`.
    public func point(user: UInt64, request: UInt64) -> UInt64 { offset &+ user &* Self.alpha &+ request &* Self.phi }

    /// The member whose slice holds `point`.
    public func member(at point: UInt64) -> Int {
        guard total > 0 else { return order.last ?? 0 }
        let r = point.multipliedFullWidth(by: total).high   // floor(u · total), in 0..<total
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > r { hi = mid } else { lo = mid + 1 }
        }
        return order[lo]
    }

    /// The member of open-model arrival `index`.
    public func pick(arrival index: UInt64) -> Int { member(at: point(arrival: index)) }
    /// The member of closed-model user `user`'s request number `request`.
    public func pick(user: UInt64, request: UInt64) -> Int { member(at: point(user: user, request: request)) }
}

/// The canary verdict: each non-baseline member's figures against the baseline's, with the
/// split's bounds (``SplitSpec/bounds``). A run whose verdict fails exits 99.
public struct SplitVerdict: Sendable, Equatable {
    /// One bound applied to one member.
    public struct Check: Sendable, Equatable {
        /// The member judged.
        public var member: String
        /// The bound as written (`p(99)=+10%`).
        public var bound: RegressionBound
        /// The baseline's and the member's figure: milliseconds for latency, a fraction (0..1)
        /// for `error_rate`; nil when that side recorded no request.
        public var baselineValue: Double?
        public var value: Double?
        /// The most the member's figure may be (same unit); nil without the baseline's figure.
        public var limit: Double?
        /// Whether it is within the limit; nil when there is no data to judge (not a failure).
        public var passed: Bool?
        /// The baseline's and the member's request counts behind the figures.
        public var baselineRequests: UInt64 = 0
        public var requests: UInt64 = 0
        /// False when a side has fewer requests than the verdict's minimum: not judged.
        public var enoughData: Bool = true

        public init(member: String, bound: RegressionBound, baselineValue: Double?, value: Double?, limit: Double?, passed: Bool?,
                    baselineRequests: UInt64 = 0, requests: UInt64 = 0, enoughData: Bool = true) {
            self.member = member; self.bound = bound; self.baselineValue = baselineValue; self.value = value; self.limit = limit
            self.passed = passed; self.baselineRequests = baselineRequests; self.requests = requests; self.enoughData = enoughData
        }
    }

    /// Every check, member by member, bound by bound.
    public var checks: [Check]
    /// False when any check failed; checks without data do not fail the run.
    public var passed: Bool { !checks.contains { $0.passed == false } }

    public init(checks: [Check]) { self.checks = checks }

    /// Judges each non-baseline member's stats (`stats[i]` for member `i`; nil: no request)
    /// against the baseline's with `spec`'s bounds. A check whose baseline or member has fewer
    /// than `minRequests` requests is not judged (`passed` nil, `enoughData` false).
    public init(spec: SplitSpec, stats: [RequestStats?], minRequests: Int = 1) {
        let b = spec.baselineIndex
        let base = b < stats.count ? stats[b] : nil
        var checks: [Check] = []
        for i in spec.members.indices where i != b {
            let mine = i < stats.count ? stats[i] : nil
            for bound in spec.bounds {
                let bv = Self.figure(bound.figure, base)
                let v = Self.figure(bound.figure, mine)
                var limit: Double?
                if let bv {
                    switch bound.limit {
                    case .percent(let p): limit = bv * (1 + p / 100)
                    case .millis(let m): limit = bv + m
                    case .points(let p): limit = bv + p / 100
                    }
                }
                // A small epsilon: a figure equal to its limit passes despite rounding.
                let baseCount = base?.requests ?? 0, count = mine?.requests ?? 0
                let enough = baseCount >= UInt64(max(1, minRequests)) && count >= UInt64(max(1, minRequests))
                let passed: Bool? = (v == nil || limit == nil || !enough) ? nil : v! <= limit! + 1e-9
                checks.append(Check(member: spec.members[i].name, bound: bound, baselineValue: bv, value: v, limit: limit, passed: passed,
                                    baselineRequests: baseCount, requests: count, enoughData: enough))
            }
        }
        self.checks = checks
    }

    /// A figure a bound names, from `stats`: corrected latency in ms, or the error rate; nil
    /// when no request was recorded.
    static func figure(_ name: String, _ stats: RequestStats?) -> Double? {
        guard let s = stats, s.requests > 0 else { return nil }
        if name == "error_rate" { return Double(s.failures) / Double(s.requests) }
        if name == "mean" { return s.corrected.meanMicros.map { $0 / 1000 } }
        if name == "max" { return s.corrected.max.map { Double($0) / 1000 } }
        if name.hasPrefix("p("), name.hasSuffix(")"), let q = Double(name.dropFirst(2).dropLast()) {
            return s.corrected.percentile(q).map { Double($0) / 1000 }
        }
        return nil
    }
}

/// What a split run measured per member and how the verdict went: the session builds it from
/// the run's breakdown groups once the load is over (``RunResult/split``).
public struct SplitResult: Sendable {
    /// One member's share and figures.
    public struct Member: Sendable {
        public var name: String
        public var target: String
        public var baseline: Bool
        public var engineSummary: String?
        /// The weight as written, and the weight in force when the run ended (after live steps).
        public var weight: Int
        public var finalWeight: Int
        /// Its requests' figures; nil when it got none.
        public var stats: RequestStats?
    }
    public var members: [Member]
    public var verdict: SplitVerdict
    /// The canary's promotion steps (percent), empty when none were configured.
    public var steps: [Int]
    /// The run's step windows (one shift of the weights to the next), each with its own
    /// verdict; empty when the snapshot carried no per-step figures.
    public var windows: [SplitStepWindow] = []
    /// The bounds the verdicts apply (``SplitSpec/bounds``).
    public var bounds: [RegressionBound] = []
    /// The least requests each side needed for a step window to be judged.
    public var minRequests: Int = SplitSpec.defaultMinRequests
    /// Whether the split passes: the whole run's verdict and every step window's (a window
    /// without enough data is not judged and does not fail).
    public var passed: Bool { verdict.passed && windows.allSatisfy(\.verdict.passed) }

    /// The result of `spec` from `snapshot`'s `.target` breakdown groups, with the weights in
    /// force at the end (`finalWeights`, the written ones when nil), and its step windows from
    /// the snapshot's ``Snapshot/splitSteps`` and the live `shifts` (dated on the run's clock,
    /// which started at `runStartNanos`).
    public init(spec: SplitSpec, snapshot: Snapshot, finalWeights: [Int]?, shifts: [SplitShift] = [], runStartNanos: UInt64 = 0) {
        var stats: [RequestStats?] = []
        for m in spec.members {
            if let g = snapshot.groupKeys.firstIndex(of: .target(m.name)), g < snapshot.groups.count, snapshot.groups[g].requests > 0 {
                stats.append(snapshot.groups[g])
            } else {
                stats.append(nil)
            }
        }
        let fw = finalWeights ?? spec.weights
        members = spec.members.indices.map { i in
            let m = spec.members[i]
            return Member(name: m.name, target: m.target, baseline: m.baseline, engineSummary: m.engineSummary, weight: m.weight,
                          finalWeight: i < fw.count ? fw[i] : m.weight, stats: stats[i])
        }
        verdict = SplitVerdict(spec: spec, stats: stats)
        steps = spec.steps
        minRequests = spec.minRequests
        bounds = spec.bounds
        windows = SplitStepWindow.windows(spec: spec, cumulative: snapshot.splitSteps, shifts: shifts, runStartNanos: runStartNanos)
    }
}
