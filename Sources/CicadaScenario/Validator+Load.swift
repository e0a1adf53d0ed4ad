import CicadaCore
import Yams

/// The load model: closed users (`users`, `stages`, `wait_time`) or open arrivals (`arrival:`).
extension Validator {
    func loadProfile(_ top: [String: (key: Node, value: Node)], root: Node) -> LoadProfile? {
        if let a = top["arrival"] {
            for k in ["users", "spawn_rate", "wait_time", "stages", "honor_retry_after"] where top[k] != nil {
                fail(top[k]!.key, k, "'\(k)' belongs to the closed (users) model, but 'arrival' selects the open model", hint: "use one or the other")
            }
            return openLoad(a.value, runTime: top["run_time"])
        }
        var waitTime = WaitTime.none
        if let w = top["wait_time"] { waitTime = self.waitTime(w.value) ?? .none }
        let honor = top["honor_retry_after"].flatMap { bool($0.value, "honor_retry_after") } ?? false
        if let s = top["stages"] {
            for k in ["users", "spawn_rate", "run_time"] where top[k] != nil {
                fail(top[k]!.key, k, "'\(k)' conflicts with 'stages' (each stage sets its own duration, users and spawn rate)")
            }
            guard let items = list(s.value, "stages") else { return nil }
            var stages: [UserStage] = []
            for (i, item) in items.enumerated() {
                let p = "stages[\(i)]"
                guard let m = mapping(item, p, allowed: ["duration", "users", "spawn_rate"]) else { continue }
                guard let d = m["duration"], let u = m["users"] else { fail(item, p, "each stage needs 'duration' and 'users'"); continue }
                guard let dur = duration(d.value, "\(p).duration"), let users = int(u.value, "\(p).users", max: Self.maxUsers) else { continue }
                let rate = m["spawn_rate"].flatMap { double($0.value, "\(p).spawn_rate", positive: true) } ?? Double(max(users, 1))
                stages.append(UserStage(duration: dur, users: users, spawnRate: rate))
            }
            if items.isEmpty { fail(s.value, "stages", "at least one stage is needed") }
            return .closed(ClosedLoad(stages: stages, waitTime: waitTime, honorRetryAfter: honor))
        }
        let users = top["users"].flatMap { int($0.value, "users", min: 1, max: Self.maxUsers) } ?? 1
        let rate = top["spawn_rate"].flatMap { double($0.value, "spawn_rate", positive: true) } ?? 1
        var runTime = Duration.seconds(Int64.max / 4_000_000_000)
        if let r = top["run_time"], let d = duration(r.value, "run_time") {
            if d <= .zero { fail(r.value, "run_time", "must be longer than 0") }
            runTime = d
        }
        return .closed(ClosedLoad(stages: [UserStage(duration: runTime, users: users, spawnRate: rate)], waitTime: waitTime, honorRetryAfter: honor))
    }

    func waitTime(_ n: Node) -> WaitTime? {
        let path = "wait_time"
        guard let s = n.scalar?.string else { fail(n, path, "expected e.g. between(0.5, 2), constant(1), constant_pacing(1), constant_throughput(2) or poisson(2)"); return nil }
        let text = s.replacingOccurrences(of: " ", with: "")
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            fail(n, path, "expected a function such as between(0.5, 2); found '\(s)'"); return nil
        }
        let fn = String(text[..<open])
        let args = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ",").map { Double($0) }
        guard args.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }) else { fail(n, path, "arguments must be non-negative numbers of seconds (or per-second rates)"); return nil }
        let a = args.map { $0! }
        let known = ["constant", "between", "constant_pacing", "constant_throughput", "poisson"]
        switch (fn, a.count) {
        case ("constant", 1): return .constant(.fromSeconds(a[0]))
        case ("between", 2):
            guard a[0] <= a[1] else { fail(n, path, "between(min, max) needs min <= max"); return nil }
            return .between(.fromSeconds(a[0]), .fromSeconds(a[1]))
        case ("constant_pacing", 1): return .constantPacing(.fromSeconds(a[0]))
        case ("constant_throughput", 1), ("poisson", 1):
            guard a[0] > 0 else { fail(n, path, "\(fn) needs a rate greater than 0"); return nil }
            return fn == "poisson" ? .poisson(a[0]) : .constantThroughput(a[0])
        default:
            if known.contains(fn) { fail(n, path, "wrong number of arguments to \(fn)") } else {
                fail(n, path, "unknown wait time '\(fn)'", hint: Suggest.closest(fn, in: known).map { "did you mean '\($0)'?" } ?? "use one of \(known.joined(separator: ", "))")
            }
            return nil
        }
    }

    func openLoad(_ n: Node, runTime: (key: Node, value: Node)?) -> LoadProfile? {
        let p = "arrival"
        guard let m = mapping(n, p, allowed: ["rate", "process", "burstiness", "start_rate", "stages", "max_in_flight", "max_queue", "trace", "time_scale", "block_tokens"]) else { return nil }
        for k in ["time_scale", "block_tokens"] where m[k] != nil && m["trace"] == nil { fail(m[k]!.key, "\(p).\(k)", "'\(k)' applies to a replayed trace ('trace: FILE')") }
        var process = ArrivalProcess.constant
        let burst = m["burstiness"].flatMap { double($0.value, "\(p).burstiness", positive: true, max: 1_000, least: 0.01) }
        if let pr = m["process"], let s = string(pr.value, "\(p).process") {
            switch s {
            case "constant": process = .constant
            case "poisson": process = .gamma(burstiness: 1)
            case "gamma": process = .gamma(burstiness: burst ?? 1)
            default: fail(pr.value, "\(p).process", "expected constant, poisson or gamma, found '\(s)'")
            }
        }
        if burst != nil, case .constant = process { fail(m["burstiness"]!.key, "\(p).burstiness", "burstiness applies to process: gamma") }
        let maxInFlight = m["max_in_flight"].flatMap { int($0.value, "\(p).max_in_flight", min: 1, max: Self.maxUsers) } ?? 1000
        let maxQueue = m["max_queue"].flatMap { int($0.value, "\(p).max_queue", min: 0, max: Self.maxQueue) }
        if m["trace"] != nil { return traceLoad(m, n, runTime: runTime, maxInFlight: maxInFlight, maxQueue: maxQueue) }
        if let s = m["stages"] {
            if m["rate"] != nil { fail(m["rate"]!.key, "\(p).rate", "'rate' conflicts with 'stages' (give 'start_rate' and each stage's target rate)") }
            if let r = runTime { fail(r.key, "run_time", "'run_time' conflicts with arrival stages (the stages' durations add up to the run time)") }
            guard let items = list(s.value, "\(p).stages") else { return nil }
            var stages: [RateStage] = []
            for (i, item) in items.enumerated() {
                let sp = "\(p).stages[\(i)]"
                guard let sm = mapping(item, sp, allowed: ["duration", "rate", "ramp"]) else { continue }
                guard let d = sm["duration"], let r = sm["rate"] else { fail(item, sp, "each stage needs 'duration' and 'rate'"); continue }
                var ramp = RateStage.Ramp.linear
                if let rn = sm["ramp"], let rs = string(rn.value, "\(sp).ramp") {
                    if let v = RateStage.Ramp(rawValue: rs) { ramp = v } else { fail(rn.value, "\(sp).ramp", "expected linear or exponential, found '\(rs)'") }
                }
                if let dur = duration(d.value, "\(sp).duration"), let rate = double(r.value, "\(sp).rate", max: Self.maxRate) { stages.append(RateStage(duration: dur, rate: rate, ramp: ramp)) }
            }
            if items.isEmpty { fail(s.value, "\(p).stages", "at least one stage is needed") }
            let start = m["start_rate"].flatMap { double($0.value, "\(p).start_rate", max: Self.maxRate) } ?? 0
            return .open(OpenLoad(startRate: start, stages: stages, process: process, maxInFlight: maxInFlight, maxQueue: maxQueue))
        }
        guard let r = m["rate"] else { fail(n, p, "missing 'rate' (arrivals per second) or 'stages'"); return nil }
        guard let rate = double(r.value, "\(p).rate", positive: true, max: Self.maxRate) else { return nil }
        guard let rt = runTime else { fail(n, "run_time", "an open-model scenario with a constant rate needs 'run_time'"); return nil }
        guard let d = duration(rt.value, "run_time") else { return nil }
        return .open(OpenLoad.constant(rate: rate, duration: d, process: process, maxInFlight: maxInFlight, maxQueue: maxQueue))
    }
}
