import CicadaCore
import CicadaTransport
import Foundation
import Synchronization

/// Sends the scenario's consistency probe beside the load, on its own thread, and tallies the
/// answers (``ConsistencyTally``).
///
/// A probe is due after every `every` requests the load completed (read from each second's
/// snapshot) or every `interval` on the run's clock (``ConsistencyCadence``). Probes go one at a
/// time: due points that pass while one is in flight are skipped, not queued, so a slow server
/// never gets a pile of probes. Probes are not the load's requests: they are in no latency
/// figure, count or error table; the summary and the JSON's `consistency` section count them
/// apart. As a ``ConsistencyFeed`` it hands its findings so far to every snapshot of the run it
/// is attached to, so `inconsistent_outputs` fires live as soon as an answer differs. Used by
/// `cicada run` (a prober per lane) and `cicada sweep` (one per point's measurement).
public final class ConsistencyProber: ConsistencyFeed, @unchecked Sendable {
    /// What one probe got back.
    public enum Reply: Sendable {
        /// The server answered with this status and body.
        case response(status: Int, body: [UInt8])
        /// No answer: the transport's message.
        case failed(String)
    }

    /// Sends the probe's body to a URL with headers and waits for the reply.
    public typealias Sender = @Sendable (_ url: String, _ body: String, _ headers: [(name: String, value: String)]) -> Reply

    /// What is probed and how often.
    public let spec: ConsistencySpec
    let url: String
    let headers: [(name: String, value: String)]
    let timeout: Duration
    let control: RunControl
    let send: Sender
    private let completed = Atomic<UInt64>(0)
    private let stopFlag = Atomic<Bool>(false)
    private let done = Atomic<Bool>(false)
    private let tally: Mutex<ConsistencyTally>
    private let cadence: Mutex<ConsistencyCadence>
    private var started = false

    /// A prober for `plan`'s target, on `control`'s clock; `send` defaults to a blocking libcurl
    /// POST (``HTTPPost``) with the scenario's TLS setting and request timeout.
    public init(spec: ConsistencySpec, plan: RunPlan, control: RunControl, send: Sender? = nil) {
        self.spec = spec
        url = plan.baseURL + spec.path
        // The scenario's headers (auth among them), then the probe's own, which win.
        let own = Set(spec.headers.map { $0.name.lowercased() })
        headers = plan.headers.filter { !own.contains($0.name.lowercased()) } + spec.headers
        let insecure = plan.scenario.insecure
        let timeout = plan.scenario.timeouts.request
        self.timeout = timeout
        self.control = control
        self.send = send ?? { url, body, headers in
            do throws(HTTPPost.Failure) {
                let r = try HTTPPost.send(url, body: body, headers: headers, insecure: insecure, timeout: timeout)
                return .response(status: r.status, body: r.body)
            } catch { return .failed(error.description) }
        }
        tally = Mutex(ConsistencyTally(spec: spec))
        cadence = Mutex(ConsistencyCadence(spec.cadence))
    }

    /// Feeds `run`'s snapshots with the findings so far and the probe with the load's completed
    /// requests (each second's snapshot); call before the run starts.
    public func attach(to run: LoadRun) {
        run.consistency = self
        let previous = run.onSecond
        run.onSecond = { [self] snap in previous?(snap); observe(completedRequests: snap.total.requests) }
    }

    /// The load's completed requests so far (from a snapshot).
    public func observe(completedRequests: UInt64) { completed.store(completedRequests, ordering: .relaxed) }

    /// The findings so far.
    public func consistencySummary() -> ConsistencySummary { tally.withLock { $0.summary } }

    /// Starts the probe thread: a turn (``tick()``) every 20 ms until ``stop()``.
    public func start() {
        started = true
        let t = Thread { [self] in
            while !stopFlag.load(ordering: .acquiring) {
                tick()
                usleep(20_000)
            }
            done.store(true, ordering: .releasing)
        }
        t.name = "cicada-consistency"
        t.start()
    }

    /// One turn of the probe loop: sends a probe, and waits for its answer, when one is due on
    /// the run's clock. Nothing is due before the run starts or once it stops starting requests.
    public func tick() {
        let start = control.runStartNanos
        guard start != 0, !control.stopStarting else { return }
        let now = control.clock.nowNanos()
        let c = completed.load(ordering: .relaxed)
        if cadence.withLock({ $0.isDue(nowNanos: now, startNanos: start, completed: c) }) { probe(start: start) }
    }

    /// Sends one probe and records its answer.
    func probe(start: UInt64) {
        let reply = send(url, spec.body, headers)
        let now = control.clock.nowNanos()
        let at = Double(now &- min(start, now)) / 1e9
        tally.withLock { t in
            switch reply {
            case .failed(let message): t.recordFailure(message)
            case .response(let status, _) where status >= 400: t.recordFailure("HTTP \(status)")
            case .response(let status, let body):
                if let answer = spec.answer(fromBody: body) { t.record(answer: answer, atSeconds: at) } else {
                    t.recordFailure("HTTP \(status): no answer text in the body")
                }
            }
        }
    }

    /// Stops the thread (a probe in flight finishes first, up to the request timeout) and
    /// returns the findings.
    public func stop() -> ConsistencySummary {
        stopFlag.store(true, ordering: .releasing)
        if started {
            let deadline = ContinuousClock.now + timeout + .seconds(1)
            while !done.load(ordering: .acquiring), ContinuousClock.now < deadline { usleep(5_000) }
        }
        return consistencySummary()
    }
}
