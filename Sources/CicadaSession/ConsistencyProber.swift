import CicadaCore
import CicadaTransport
import Foundation
import Synchronization

/// Sends the scenario's consistency probe beside the load, on its own thread, and tallies the
/// answers (``ConsistencyTally``).
///
/// A probe is due after every `every` requests the load completed (read from each second's
/// snapshot) or every `interval` on the run's clock. Probes go one at a time: due points that
/// pass while one is in flight are skipped, not queued, so a slow server never gets a pile of
/// probes. Probes are not the load's requests: they are in no latency figure, count or error
/// table; the summary and the JSON's `consistency` section count them apart.
final class ConsistencyProber: @unchecked Sendable {
    let spec: ConsistencySpec
    let url: String
    let headers: [(name: String, value: String)]
    let insecure: Bool
    let timeout: Duration
    let control: RunControl
    private let completed = Atomic<UInt64>(0)
    private let stopFlag = Atomic<Bool>(false)
    private let done = Atomic<Bool>(false)
    private let tally: Mutex<ConsistencyTally>
    private var started = false

    init(spec: ConsistencySpec, plan: RunPlan, control: RunControl) {
        self.spec = spec
        url = plan.baseURL + spec.path
        // The scenario's headers (auth among them), then the probe's own, which win.
        let own = Set(spec.headers.map { $0.name.lowercased() })
        headers = plan.headers.filter { !own.contains($0.name.lowercased()) } + spec.headers
        insecure = plan.scenario.insecure
        timeout = plan.scenario.timeouts.request
        self.control = control
        tally = Mutex(ConsistencyTally(spec: spec))
    }

    /// The load's completed requests so far (from a snapshot).
    func observe(completedRequests: UInt64) { completed.store(completedRequests, ordering: .relaxed) }

    /// Starts the probe thread.
    func start() {
        started = true
        let t = Thread { [self] in
            var nextCount: UInt64 = {
                if case .everyRequests(let n) = spec.cadence { return UInt64(n) }
                return 0
            }()
            var nextNanos: UInt64?
            var lastCount: UInt64 = 0
            while !stopFlag.load(ordering: .acquiring) {
                let start = control.runStartNanos
                if start != 0, !control.stopStarting {
                    let now = control.clock.nowNanos()
                    var due = false
                    switch spec.cadence {
                    case .everyRequests(let n):
                        let c = completed.load(ordering: .relaxed)
                        // The count starts again from 0 after a reset (`r`, `/control`) or in the
                        // next repetition (`--repeat`): the next probe is then n requests on.
                        if c < lastCount { nextCount = c + UInt64(n) }
                        lastCount = c
                        if c >= nextCount { due = true; nextCount = (c / UInt64(n) + 1) * UInt64(n) }
                    case .interval(let d):
                        let next = nextNanos ?? (start &+ d.nanos)
                        if now >= next { due = true; nextNanos = max(next &+ d.nanos, now) } else { nextNanos = next }
                    }
                    if due { probe(start: start) }
                }
                usleep(20_000)
            }
            done.store(true, ordering: .releasing)
        }
        t.name = "cicada-consistency"
        t.start()
    }

    /// Sends one probe and records its answer.
    func probe(start: UInt64) {
        let result: Result<(status: Int, body: [UInt8]), HTTPPost.Failure>
        do throws(HTTPPost.Failure) { result = .success(try HTTPPost.send(url, body: spec.body, headers: headers, insecure: insecure, timeout: timeout)) }
        catch { result = .failure(error) }
        let at = Double(control.clock.nowNanos() &- min(start, control.clock.nowNanos())) / 1e9
        tally.withLock { t in
            switch result {
            case .failure(let e): t.recordFailure(e.description)
            case .success(let r) where r.status >= 400: t.recordFailure("HTTP \(r.status)")
            case .success(let r):
                if let answer = spec.answer(fromBody: r.body) { t.record(answer: answer, atSeconds: at) } else {
                    t.recordFailure("HTTP \(r.status): no answer text in the body")
                }
            }
        }
    }

    /// Stops the thread (a probe in flight finishes first, up to the request timeout) and
    /// returns the findings.
    func stop() -> ConsistencySummary {
        stopFlag.store(true, ordering: .releasing)
        if started {
            let deadline = ContinuousClock.now + timeout + .seconds(1)
            while !done.load(ordering: .acquiring), ContinuousClock.now < deadline { usleep(5_000) }
        }
        return tally.withLock { $0.summary }
    }
}
