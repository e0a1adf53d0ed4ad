/// The engine's bound on requests it holds at once: admitted and not yet answered, whether they
/// wait in the batcher's queue, run on an instance, or sit finished behind `preserve_ordering`.
///
/// Every admitted request must be released exactly once when its answer goes out (success,
/// rejection, timeout, out of memory, or its client going away), or the bound shrinks for good.
/// Pure: the engine runtime calls it on its event loop.
public struct InFlightLimit: Sendable, Equatable {
    /// The most requests held at once; a request beyond it is refused (HTTP 503 + Retry-After).
    public var limit: Int
    /// Requests held now.
    public private(set) var current = 0
    /// The most requests held at any moment so far.
    public private(set) var peak = 0
    /// Requests refused because `limit` were held.
    public private(set) var refused: UInt64 = 0

    public init(limit: Int) { self.limit = limit }

    /// Takes one more request if fewer than `limit` are held; false (and counted) otherwise.
    public mutating func admit() -> Bool {
        guard current < limit else { refused += 1; return false }
        current += 1
        peak = max(peak, current)
        return true
    }

    /// One held request has been answered. A release with nothing held is ignored.
    public mutating func release() {
        if current > 0 { current -= 1 }
    }
}
