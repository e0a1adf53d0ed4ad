/// One load change sent to a shard's status server (`POST /control`, docs/DISTRIBUTED.md): what
/// `cicada dash --shards` fans out when a dashboard key is pressed, and what any script may send.
///
/// The commands are exactly the run's own dashboard keys (``RunControl``), applied to the
/// shard's own part of the load: `add_users` changes the shard's user offset (closed model),
/// `set_rate_scale` / `rate_scale` its arrival-rate multiplier (open model), `pause`, `resume`
/// and `reset` the same as space and `r`. The dashboard's `+`/`-` send `rate_scale`, so each
/// shard scales the multiplier it has (one set by a script or another dashboard included).
public enum ShardControlCommand: Sendable, Equatable {
    /// Add (negative: remove) users on top of the shard's share of the ramp.
    case addUsers(Int)
    /// Set the arrival-rate multiplier to this value (1 is the scenario's rate).
    case setRateScale(Double)
    /// Multiply the arrival-rate multiplier in force by this factor.
    case scaleRate(Double)
    /// Start no new requests until resumed.
    case pause
    /// Start requests again.
    case resume
    /// Clear the shard's statistics.
    case reset

    /// The largest user change one command may ask for, and the rate multiplier's bounds: beyond
    /// them a command is a mistake, not a load change.
    public static let userLimit = 1_000_000
    public static let scaleRange = 0.001...1000.0

    /// Why a request body is not a command: the HTTP status (400) and a message naming the key.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, for the answer's `error`.
        public var message: String
        public var description: String { message }
        /// A problem.
        public init(_ message: String) { self.message = message }
    }

    /// The command in a JSON body such as `{"action": "add_users", "delta": 10}`.
    ///
    /// - Throws: ``Problem`` naming the missing or bad key, or listing the actions there are.
    public static func parse(_ body: [UInt8]) throws(Problem) -> ShardControlCommand {
        guard case .object(let o)? = JSONValue.parse(body) else {
            throw Problem("body is not a JSON object; send e.g. {\"action\": \"add_users\", \"delta\": 10}")
        }
        guard case .string(let action)? = o["action"] else { throw Problem("missing string key 'action' (\(actions))") }
        func number(_ key: String) throws(Problem) -> Double {
            guard let v = o[key] else { throw Problem("action '\(action)' needs the number key '\(key)'") }
            guard case .number(let n) = v, n.isFinite else { throw Problem("key '\(key)' must be a number, not \(v.text)") }
            return n
        }
        switch action {
        case "add_users":
            let d = try number("delta")
            guard d == d.rounded(), abs(d) <= Double(userLimit), d != 0 else {
                throw Problem("key 'delta' must be a whole number of users, not 0, at most \(userLimit) either way (got \(JSONValue.number(d).text))")
            }
            return .addUsers(Int(d))
        case "set_rate_scale", "rate_scale":
            let key = action == "rate_scale" ? "factor" : "scale"
            let v = try number(key)
            guard scaleRange.contains(v) else {
                throw Problem("key '\(key)' must be between \(scaleRange.lowerBound) and \(Int(scaleRange.upperBound)) (got \(JSONValue.number(v).text))")
            }
            return action == "rate_scale" ? .scaleRate(v) : .setRateScale(v)
        case "pause": return .pause
        case "resume": return .resume
        case "reset": return .reset
        default: throw Problem("unknown action '\(action)' (\(actions))")
        }
    }

    static let actions = "actions: add_users {delta}, set_rate_scale {scale}, rate_scale {factor}, pause, resume, reset"

    /// The command as a request body, the form ``parse(_:)`` reads.
    public var body: String {
        switch self {
        case .addUsers(let n): return "{\"action\":\"add_users\",\"delta\":\(n)}"
        case .setRateScale(let s): return "{\"action\":\"set_rate_scale\",\"scale\":\(s)}"
        case .scaleRate(let f): return "{\"action\":\"rate_scale\",\"factor\":\(f)}"
        case .pause: return "{\"action\":\"pause\"}"
        case .resume: return "{\"action\":\"resume\"}"
        case .reset: return "{\"action\":\"reset\"}"
        }
    }

    /// Whether the command applies to the closed model (users) or the open model (rate); nil
    /// for the commands that apply to both.
    public var needsOpenModel: Bool? {
        switch self {
        case .addUsers: return false
        case .setRateScale, .scaleRate: return true
        case .pause, .resume, .reset: return nil
        }
    }

    /// Carries the command out on `control`, as the run's own dashboard keys do; returns what
    /// was done, for the run's events and the answer. Throws a ``Problem`` (answered 409) when
    /// the command is for the other load model.
    public func apply(to control: RunControl, isOpenModel: Bool) throws(Problem) -> String {
        if let open = needsOpenModel, open != isOpenModel {
            throw Problem(isOpenModel ? "this shard runs the open model (arrival:): change its rate with set_rate_scale, not users"
                                      : "this shard runs the closed model (users:): change its users with add_users, not the rate")
        }
        switch self {
        case .addUsers(let n):
            control.userOffset += n
            return "users \(n > 0 ? "+" : "")\(n) (offset \(control.userOffset))"
        case .setRateScale(let s):
            control.rateScale = s
            return "arrival rate x\(Format.number(s, digits: 3))"
        case .scaleRate(let f):
            let s = Swift.min(Swift.max(control.rateScale * f, Self.scaleRange.lowerBound), Self.scaleRange.upperBound)
            control.rateScale = s
            return "arrival rate x\(Format.number(s, digits: 3))"
        case .pause:
            control.paused = true
            return "paused: no new requests start"
        case .resume:
            control.paused = false
            return "resumed"
        case .reset:
            control.resetRequested = true
            return "statistics reset"
        }
    }
}
