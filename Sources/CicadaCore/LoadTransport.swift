/// How a run's requests go on the wire: it makes one ``LoadGenerator`` per worker thread.
///
/// The runner knows only this protocol, so a second transport (a hand-written HTTP/1.1 client,
/// say) is a new implementation, not a branch in the worker; tests give the runner a generator
/// that records synthetic outcomes, and step it in virtual time. libcurl's is `CurlTransport`.
public protocol LoadTransport: Sendable {
    /// The transport's name in the summary and the JSON report (`curl`, `fast`).
    var name: String { get }
    /// Anything the transport needs once per process before its first generator (libcurl's
    /// global init).
    func prepare() throws
    /// A generator for worker `context.index` of `context.count`.
    func makeGenerator(_ context: GeneratorContext) throws -> any LoadGenerator
}

/// What a generator is given: the plan, its place among the workers, the shared controls, the
/// run's clock and start, and where its intervals go.
public struct GeneratorContext: Sendable {
    public var plan: RunPlan
    /// This worker's number, `0..<count`: it takes users `i % count == index` (closed model) or
    /// arrivals `k % count == index` (open model).
    public var index: Int
    public var count: Int
    public var control: RunControl
    public var clock: any TimeSource
    public var outbox: IntervalOutbox
    /// The run's start on `clock`; schedules are offsets from it.
    public var startNanos: UInt64
    /// The shard this process runs (``ShardSpec``): the worker takes its stripe of the shard's
    /// stripe, through ``ShardSpec/slot(worker:workerCount:)``. `RunControl.targetUsers` is the
    /// shard's own user count.
    public var shard: ShardSpec = .single
    public init(plan: RunPlan, index: Int, count: Int, control: RunControl, clock: any TimeSource, outbox: IntervalOutbox, startNanos: UInt64, shard: ShardSpec = .single) {
        self.plan = plan; self.index = index; self.count = count; self.control = control
        self.clock = clock; self.outbox = outbox; self.startNanos = startNanos; self.shard = shard
    }
}

/// One load-generating thread: it sends its share of the run's requests, records each outcome
/// into its own ``IntervalStats`` and posts them to the outbox (at most every 250 ms, and once
/// more with `finished: true` when it ends).
public protocol LoadGenerator: AnyObject, Sendable {
    /// Runs until the run ends: ``RunControl/stopStarting`` with nothing left in flight, or
    /// ``RunControl/abort`` (in-flight requests then count as cut off). Blocking; the runner
    /// calls it on a thread of its own.
    func run()
    /// Wakes the generator from its wait (thread-safe), e.g. when the run is stopping.
    func wake()
}

extension LoadTransport {
    public func prepare() throws {}
    public var name: String { "custom" }
}
