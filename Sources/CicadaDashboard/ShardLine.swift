/// One shard of a distributed run, as the shard table of `cicada dash --shards` shows it.
///
/// Plain values: the executable builds them from the shards' `/live` answers and the
/// acknowledgements of the load keys it fanned out.
public struct ShardLine: Sendable, Equatable {
    /// The shard's index (I of `--shard I/N`).
    public var index: Int
    /// Its status server, e.g. `http://10.0.0.7:9646`.
    public var url: String
    /// "up", "stale 5s" (no answer for that long), "finished", "paused" or "down" (never answered).
    public var state: String
    /// Whether the state is a healthy one (drawn plain) rather than a warning (drawn red).
    public var healthy: Bool
    /// Requests per second over the shard's sliding window; nil when unknown.
    public var qps: Double?
    /// The shard's corrected p99 over its window, microseconds; nil with no request.
    public var p99Micros: UInt64?
    /// The answer to the last load key sent to it ("ok", or the failure); nil before any.
    public var ack: String?
    /// Its arrival-rate multiplier now (open model), shown in a `Rate` column when any shard has
    /// one: `+`/`-` scale each shard's own; nil for the closed model.
    public var rateScale: Double?

    /// A line.
    public init(index: Int, url: String, state: String, healthy: Bool, qps: Double?, p99Micros: UInt64?, ack: String?) {
        self.index = index; self.url = url; self.state = state; self.healthy = healthy
        self.qps = qps; self.p99Micros = p99Micros; self.ack = ack
    }
}
