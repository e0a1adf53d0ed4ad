import CicadaCore

/// Command-line overrides of a scenario (Locust's `-u`, `-r`, `-t`, plus `--rate`,
/// `--target`, `--seed`), applied after the file is validated.
public struct ScenarioOverrides: Sendable {
    public var users: Int?
    public var spawnRate: Double?
    public var runTime: Duration?
    public var rate: Double?
    public var target: String?
    public var seed: UInt64?
    public var http2: Bool?
    public var insecure: Bool?
    /// `--transport`: which client sends the requests.
    public var transport: TransportChoice?

    public init(users: Int? = nil, spawnRate: Double? = nil, runTime: Duration? = nil, rate: Double? = nil,
                target: String? = nil, seed: UInt64? = nil, http2: Bool? = nil, insecure: Bool? = nil) {
        self.users = users; self.spawnRate = spawnRate; self.runTime = runTime; self.rate = rate
        self.target = target; self.seed = seed; self.http2 = http2; self.insecure = insecure
    }

    /// An override that does not fit the scenario, e.g. `--users` on an open-model scenario.
    public struct Conflict: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The scenario with the overrides applied.
    public func apply(to input: Scenario) throws(Conflict) -> Scenario {
        var s = input
        if let t = target {
            guard t.hasPrefix("http://") || t.hasPrefix("https://") else { throw Conflict(description: "--target '\(t)' is not an http:// or https:// URL") }
            s.target = t
        }
        if let seed { s.seed = seed }
        if let http2 { s.http2 = http2 }
        if let insecure { s.insecure = insecure }
        if let transport { s.transport = transport }
        switch s.load {
        case .closed(var c):
            if rate != nil { throw Conflict(description: "--rate applies to open-model (arrival) scenarios; this one is closed (users)") }
            if users != nil || spawnRate != nil {
                guard c.stages.count == 1 else { throw Conflict(description: "--users/--spawn-rate cannot override a scenario with stages") }
                if let u = users {
                    guard u >= 1 else { throw Conflict(description: "--users must be at least 1") }
                    guard u <= Validator.maxUsers else { throw Conflict(description: "--users must be at most \(Validator.maxUsers), found \(u)") }
                    c.stages[0].users = u
                }
                if let r = spawnRate { guard r > 0 else { throw Conflict(description: "--spawn-rate must be greater than 0") }; c.stages[0].spawnRate = r }
            }
            if let t = runTime {
                guard t > .zero else { throw Conflict(description: "--run-time must be longer than 0") }
                c.stages = Self.cap(c.stages, at: t, duration: \.duration)
            }
            s.load = .closed(c)
        case .open(var o):
            if users != nil || spawnRate != nil { throw Conflict(description: "--users/--spawn-rate apply to closed-model scenarios; this one is open (arrival rate)") }
            if let r = rate {
                guard r > 0 else { throw Conflict(description: "--rate must be greater than 0") }
                guard r <= Validator.maxRate else { throw Conflict(description: "--rate must be at most \(Int(Validator.maxRate)) a second, found \(r)") }
                guard o.trace == nil else { throw Conflict(description: "--rate cannot override a replayed trace (arrival.trace); change arrival.time_scale instead") }
                guard o.stages.count == 1, o.startRate == o.stages[0].rate else { throw Conflict(description: "--rate cannot override a scenario with rate stages") }
                o.startRate = r; o.stages[0].rate = r
            }
            if let t = runTime {
                guard t > .zero else { throw Conflict(description: "--run-time must be longer than 0") }
                o.stages = Self.cap(o.stages, at: t, duration: \.duration)
            }
            s.load = .open(o)
        }
        return s
    }

    /// Stages cut (or the last one stretched) so that they end at `t`.
    static func cap<S>(_ stages: [S], at t: Duration, duration: WritableKeyPath<S, Duration>) -> [S] {
        var out: [S] = []
        var acc = Duration.zero
        for var st in stages {
            if acc + st[keyPath: duration] >= t {
                st[keyPath: duration] = t - acc
                out.append(st)
                return out
            }
            acc += st[keyPath: duration]
            out.append(st)
        }
        if var last = out.popLast() { last[keyPath: duration] += t - acc; out.append(last) }
        return out
    }
}
