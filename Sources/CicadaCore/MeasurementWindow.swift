import Foundation

/// Which part of a run a request belongs to, by its intended start.
public enum MeasurementPhase: String, Sendable, CaseIterable {
    /// Started in the warm-up: sent, but in no figure.
    case warmup
    /// Started in the measured window: in every figure.
    case measured
    /// Started in the cool-down (the last part of the run): sent, but in no figure.
    case cooldown
}

/// The warm-up and cool-down a run leaves out of its figures (`warmup:` / `cooldown:` in the
/// scenario, `--warmup` / `--cooldown` on `cicada run`).
///
/// A request belongs to the phase its *intended* start falls in, not its send or completion:
/// the intended start is what the schedule fixed, so the split cannot move with the server's
/// speed (a slow server must not push its own warm-up requests into the measured window).
/// Excluded requests are still sent and counted apart (``IntervalStats/excluded``), so the
/// counts add up.
public struct MeasurementWindow: Sendable, Equatable {
    /// How long a warm-up lasts: a time from the run's start, or the run's first requests.
    public enum Span: Sendable, Equatable, CustomStringConvertible {
        /// Requests whose intended start is within this time of the run's start.
        case duration(Duration)
        /// The first N requests the run starts (across all workers, in the order they start).
        case requests(Int)

        public var description: String {
            switch self {
            case .duration(let d): return DurationText.format(d)
            case .requests(let n): return "\(n) requests"
            }
        }
    }

    /// The warm-up, if any.
    public var warmup: Span?
    /// The cool-down: requests whose intended start is within this time of the end of the
    /// run's duration. Only a time: the last N requests of a run are not known until it ends.
    public var cooldown: Duration?

    /// No warm-up, no cool-down: every request is measured.
    public init(warmup: Span? = nil, cooldown: Duration? = nil) { self.warmup = warmup; self.cooldown = cooldown }

    /// Whether every request is measured.
    public var isEmpty: Bool { warmup == nil && cooldown == nil }

    /// Whether a request needs a run-wide ticket (its start order) to be placed.
    public var needsTicket: Bool { if case .requests? = warmup { return true }; return false }

    /// The phase of a request meant to start at `intendedNanos`.
    ///
    /// - Parameters:
    ///   - startNanos: the run's start on the same clock.
    ///   - durationNanos: the run's load duration, when it has one (the cool-down needs it).
    ///   - ticket: the request's place among the run's started requests (0 for the first),
    ///     when the warm-up is a request count (``needsTicket``).
    public func phase(intendedNanos: UInt64, startNanos: UInt64, durationNanos: UInt64?, ticket: UInt64? = nil) -> MeasurementPhase {
        let offset = intendedNanos &- Swift.min(startNanos, intendedNanos)
        switch warmup {
        case .duration(let d)?: if offset < d.nanos { return .warmup }
        case .requests(let n)?: if let ticket, ticket < UInt64(Swift.max(0, n)) { return .warmup }
        case nil: break
        }
        if let c = cooldown, let total = durationNanos, offset >= total &- Swift.min(c.nanos, total) { return .cooldown }
        return .measured
    }

    /// Where the measured window starts, as an offset from the run's start (ns), when it is
    /// known from the window alone (a time warm-up, or none).
    public var measuredStartOffsetNanos: UInt64? {
        switch warmup {
        case .duration(let d)?: return d.nanos
        case .requests?: return nil
        case nil: return 0
        }
    }

    /// Where the measured window ends, as an offset from the run's start (ns): the start of the
    /// cool-down; nil without one (the window then ends when the last request does).
    public func measuredEndOffsetNanos(durationNanos: UInt64?) -> UInt64? {
        guard let c = cooldown, let total = durationNanos else { return nil }
        return total &- Swift.min(c.nanos, total)
    }
}

extension MeasurementWindow {
    /// Why this window does not fit a run of `duration` (nil when it fits): a cool-down needs a
    /// run with a fixed duration, and a time warm-up plus the cool-down must leave some of the
    /// run to measure.
    public func problem(duration: Duration?) -> String? {
        if let c = cooldown {
            guard let duration else { return "a cool-down needs a run with a fixed duration (run_time or stages)" }
            var warm = Duration.zero
            if case .duration(let w)? = warmup { warm = w }
            if warm + c >= duration {
                return "warm-up (\(warmup.map { $0.description } ?? "0s")) and cool-down (\(DurationText.format(c))) leave nothing of the run's \(DurationText.format(duration)) to measure"
            }
        } else if case .duration(let w)? = warmup, let duration, w >= duration {
            return "the warm-up (\(DurationText.format(w))) is as long as the run (\(DurationText.format(duration))): nothing would be measured"
        }
        return nil
    }

    /// Reads a `--warmup` / `warmup:` value given as text: a duration (`30s`) or a request
    /// count (`500r`, `500 requests`); nil when it is neither.
    public static func span(parsing text: String) -> Span? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for suffix in [" requests", "requests", " request", "r"] where t.hasSuffix(suffix) {
            if let n = Int(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 1 { return .requests(n) }
        }
        if let d = DurationText.parse(t), d > .zero { return .duration(d) }
        return nil
    }
}
