/// Releases answers in request order when ordering is preserved: Triton's `preserve_ordering`,
/// under which a later request's response waits for every earlier request's.
///
/// Requests are numbered 0, 1, 2, ... in arrival order and each finishes exactly once, in any
/// order (instances run batches of different lengths; a rejection can overtake a running
/// batch). ``finish(_:_:hold:)`` says which answers go out now. An answer finished with
/// `hold == false` goes out at once but still counts as done, so that turning ordering off and
/// on live (the admin API) never strands an answer held behind a request that was released
/// early. Pure: the engine runtime calls it on its event loop and delivers what it returns;
/// the tests drive it in virtual time.
public struct OrderedRelease<Answer> {
    /// Answers held until every earlier request is done.
    private var held: [UInt64: Answer] = [:]
    /// Requests done (released or held) whose id is above ``nextToRelease``.
    private var doneAhead = Set<UInt64>()
    /// The oldest request id that is not done yet.
    public private(set) var nextToRelease: UInt64 = 0

    /// An empty release queue: request 0 is the first awaited.
    public init() {}

    /// The number of answers held back now.
    public var heldCount: Int { held.count }

    /// Request `id` has its answer.
    ///
    /// - Parameters:
    ///   - hold: preserve ordering for this answer (hold it until every earlier request is done).
    /// - Returns: the answers to deliver now, in order: this one first when not held, then every
    ///   held answer that no earlier request blocks any more, in request order.
    public mutating func finish(_ id: UInt64, _ answer: Answer, hold: Bool) -> [Answer] {
        var out: [Answer] = []
        if hold { held[id] = answer } else { out.append(answer) }
        doneAhead.insert(id)
        while doneAhead.remove(nextToRelease) != nil {
            if let h = held.removeValue(forKey: nextToRelease) { out.append(h) }
            nextToRelease += 1
        }
        return out
    }
}

extension OrderedRelease: Sendable where Answer: Sendable {}
