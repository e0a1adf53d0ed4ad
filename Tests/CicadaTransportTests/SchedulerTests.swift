import CicadaCore
import Testing
@testable import CicadaTransport

/// The closed model's users in virtual time: nanoseconds are passed in, nothing sleeps.
@Suite struct ClosedUsersTests {
    let ms: UInt64 = 1_000_000
    let picker = TaskPicker(weights: [1])

    /// Pops every user due at `now`, starting each (sequential flow over `tasks` tasks).
    func startDue(_ u: inout ClosedUsers, now: UInt64, tasks: Int = 1, onStart: Int = 0) -> [(id: Int, slot: Int, intended: UInt64, ref: Transfer.TaskRef)] {
        var out: [(Int, Int, UInt64, Transfer.TaskRef)] = []
        while let (slot, intended) = u.popDue(now: now) {
            let (ref, _) = u.beginRequest(slot: slot, onStartCount: onStart, flow: .sequential, taskCount: tasks, picker: TaskPicker(weights: Array(repeating: 1, count: tasks)))
            out.append((u.users[slot].id, slot, intended, ref))
        }
        return out
    }

    @Test func usersAreDealtByWorkerAndDueAtOnce() {
        var u = ClosedUsers(worker: 1, workerCount: 2, seed: 7)
        u.reconcile(want: RunControl.share(of: 5, worker: 1, workerCount: 2), now: 100 * ms)
        let started = startDue(&u, now: 100 * ms)
        #expect(started.map(\.id).sorted() == [1, 3])
        #expect(started.allSatisfy { $0.intended == 100 * ms })
        #expect(u.popDue(now: 10_000 * ms) == nil, "users in flight are not due again")
        #expect(u.activeCount == 2)
    }

    @Test func aConstantWaitRunsFromTheResponse() {
        var u = ClosedUsers(worker: 0, workerCount: 1, seed: 1)
        u.reconcile(want: 1, now: 0)
        let s = startDue(&u, now: 0)[0]
        // The response took 30 ms; the user waits 1 s from then.
        u.finished(slot: s.slot, intendedNanos: 0, sentNanos: 0, endNanos: 30 * ms, wait: .constant(.seconds(1)))
        #expect(u.nextWakeNanos == 1030 * ms)
        #expect(u.popDue(now: 1029 * ms) == nil)
        let again = startDue(&u, now: 1030 * ms)
        #expect(again.count == 1 && again[0].intended == 1030 * ms)
    }

    /// A honoured Retry-After holds the user back at least that long after the response;
    /// a longer wait (or a later pacing slot) still wins.
    @Test func retryAfterHoldsTheUserBack() {
        var u = ClosedUsers(worker: 0, workerCount: 1, seed: 1)
        u.reconcile(want: 1, now: 0)
        var s = startDue(&u, now: 0)[0]
        u.finished(slot: s.slot, intendedNanos: 0, sentNanos: 0, endNanos: 30 * ms, wait: .constant(.milliseconds(10)), retryAfterNanos: 1000 * ms)
        #expect(u.nextWakeNanos == 1030 * ms)
        #expect(u.popDue(now: 1029 * ms) == nil)
        s = startDue(&u, now: 1030 * ms)[0]
        #expect(s.intended == 1030 * ms, "the backed-off request is not late: it was never meant to go earlier")
        u.finished(slot: s.slot, intendedNanos: 1030 * ms, sentNanos: 1030 * ms, endNanos: 1040 * ms, wait: .constant(.seconds(5)), retryAfterNanos: 1000 * ms)
        #expect(u.nextWakeNanos == 6040 * ms)
        s = startDue(&u, now: 6040 * ms)[0]
        u.finished(slot: s.slot, intendedNanos: 6040 * ms, sentNanos: 6040 * ms, endNanos: 6050 * ms, wait: .constantPacing(.milliseconds(100)), retryAfterNanos: 2000 * ms)
        #expect(u.nextWakeNanos == 8050 * ms)
    }

    @Test func pacingKeepsTheGridAndASlowResponseShowsAsLateness() {
        var u = ClosedUsers(worker: 0, workerCount: 1, seed: 1)
        u.reconcile(want: 1, now: 0)
        var s = startDue(&u, now: 0)[0]
        // A fast response: next slot one period after this one's slot, not after the response.
        u.finished(slot: s.slot, intendedNanos: 0, sentNanos: 0, endNanos: 3 * ms, wait: .constantPacing(.milliseconds(100)))
        #expect(u.nextWakeNanos == 100 * ms)
        s = startDue(&u, now: 100 * ms)[0]
        #expect(s.intended == 100 * ms)
        // A response slower than the period: due at once, but intended on the grid (200 ms),
        // so the worker records 50 ms of lag and the corrected latency counts from 200 ms.
        u.finished(slot: s.slot, intendedNanos: 100 * ms, sentNanos: 100 * ms, endNanos: 250 * ms, wait: .constantPacing(.milliseconds(100)))
        #expect(u.nextWakeNanos == 250 * ms)
        let late = startDue(&u, now: 250 * ms)
        #expect(late.count == 1 && late[0].intended == 200 * ms)
    }

    @Test func surplusUsersRetireNewestFirstAndOnlyWhenIdle() {
        var u = ClosedUsers(worker: 0, workerCount: 1, seed: 1)
        u.reconcile(want: 3, now: 0)
        let started = startDue(&u, now: 0)
        #expect(started.map(\.id).sorted() == [0, 1, 2])
        u.reconcile(want: 1, now: 10 * ms)
        // Users 2 and 1 retire; both are in flight, so they still count until they finish.
        #expect(u.activeCount == 3)
        for s in started where s.id == 2 || s.id == 1 {
            u.finished(slot: s.slot, intendedNanos: 0, sentNanos: 0, endNanos: 20 * ms, wait: .constant(.zero))
        }
        #expect(u.activeCount == 1)
        let user0 = started.first { $0.id == 0 }!
        u.finished(slot: user0.slot, intendedNanos: 0, sentNanos: 0, endNanos: 20 * ms, wait: .constant(.zero))
        #expect(startDue(&u, now: 20 * ms).map(\.id) == [0])
        // Growing again reuses the freed slots, with the next ids.
        u.reconcile(want: 3, now: 30 * ms)
        #expect(startDue(&u, now: 30 * ms).map(\.id).sorted() == [1, 2])
    }

    @Test func onStartStepsFirstThenTasksInSequence() {
        var u = ClosedUsers(worker: 0, workerCount: 1, seed: 1)
        u.reconcile(want: 1, now: 0)
        var refs: [String] = []
        var now: UInt64 = 0
        for _ in 0..<6 {
            let s = startDue(&u, now: now, tasks: 3, onStart: 2)[0]
            switch s.ref { case .onStart(let i): refs.append("s\(i)"); case .task(let i): refs.append("t\(i)") }
            now += ms
            u.finished(slot: s.slot, intendedNanos: s.intended, sentNanos: s.intended, endNanos: now, wait: .constant(.zero))
        }
        #expect(refs == ["s0", "s1", "t0", "t1", "t2", "t0"])
    }
}

/// The open model's arrivals in virtual time.
@Suite struct OpenArrivalsTests {
    let ms: UInt64 = 1_000_000

    func load(rate: Double, seconds: Int = 1, maxInFlight: Int = 100, maxQueue: Int? = nil) -> OpenLoad {
        OpenLoad(startRate: rate, stages: [RateStage(duration: .seconds(seconds), rate: rate)], process: .constant, maxInFlight: maxInFlight, maxQueue: maxQueue)
    }

    /// A replayed trace's arrivals start at their trace times (scaled), and a late start is
    /// timed from the trace time: the lag is the generator's, the latency is corrected from it.
    @Test func traceArrivalsStartAtTheirTraceTimes() {
        let offsets: [UInt64] = [0, 10, 10, 35, 200]
        let trace = ArrivalTrace(entries: offsets.map { ArrivalTrace.Entry(offsetNanos: $0 * 2 * ms, inputTokens: 1) }, timeScale: 0.5)
        var a = OpenArrivals(load: OpenLoad.replay(trace), seed: 1, worker: 0, workerCount: 1, startNanos: 500 * ms)
        var starts: [(UInt64, UInt64)] = []
        var lags: [UInt64] = []
        // Steps of 7 ms: arrivals come due between steps and are started late, timed from their trace time.
        var now = 500 * ms
        while now < 800 * ms {
            a.advance(now: now, inFlight: { 0 }) { e in
                switch e {
                case .start(let i, let t): starts.append((i, t))
                case .due(let lag): lags.append(lag)
                case .drop: Issue.record("dropped")
                }
            }
            now += 7 * ms
        }
        #expect(starts.map(\.0) == Array(0..<5))
        #expect(starts.map(\.1) == offsets.map { 500 * ms + $0 * ms })
        #expect(lags == [0, 4, 4, 0, 3].map { $0 * ms })
        var other = OpenArrivals(load: OpenLoad.replay(trace), seed: 1, worker: 1, workerCount: 2, startNanos: 0)
        var mine: [UInt64] = []
        other.advance(now: 1000 * ms, inFlight: { 0 }) { if case .start(let i, _) = $0 { mine.append(i) } }
        #expect(mine == [1, 3], "worker 1 of 2 takes the odd arrivals")
    }

    @Test func constantArrivalsStartOnTheirSlots() {
        var a = OpenArrivals(load: load(rate: 10), seed: 1, worker: 0, workerCount: 1, startNanos: 1000 * ms)
        var starts: [(UInt64, UInt64)] = []
        var lags: [UInt64] = []
        // Step virtual time 1 ms at a time through the second.
        var now = 1000 * ms
        while now < 2100 * ms {
            a.advance(now: now, inFlight: { 0 }) { e in
                switch e {
                case .start(let i, let t): starts.append((i, t))
                case .due(let lag): lags.append(lag)
                case .drop: Issue.record("dropped")
                }
            }
            now += ms
        }
        #expect(starts.map(\.0) == Array(0..<10))
        #expect(starts.map(\.1) == (0..<10).map { 1000 * ms + UInt64($0) * 100 * ms })
        #expect(lags.allSatisfy { $0 == 0 })
        #expect(a.nextDueNanos(now: now, inFlight: 0) == nil, "nothing past the schedule's end")
    }

    @Test func busySlotsQueueArrivalsTimedFromTheirSlotThenDrop() {
        var a = OpenArrivals(load: load(rate: 100, maxInFlight: 1, maxQueue: 2), seed: 1, worker: 0, workerCount: 1, startNanos: 0)
        var inFlight = 0
        var events: [OpenArrivals.Event] = []
        func step(_ now: UInt64) {
            a.advance(now: now, inFlight: { inFlight }) { e in
                events.append(e)
                if case .start = e { inFlight += 1 }
            }
        }
        step(0)                     // arrival 0 starts and holds the only slot
        step(45 * ms)               // arrivals 1..4 came due: two queue, two are dropped
        #expect(events.filter { if case .drop = $0 { return true }; return false }.count == 2)
        #expect(a.queued == 2)
        #expect(events.contains(.due(lagNanos: 35 * ms)), "arrival 1 came due at 10 ms and was seen at 45 ms")
        #expect(a.nextDueNanos(now: 45 * ms, inFlight: 1) == nil, "no free slot: only a response can wake it")
        inFlight = 0                // the response came
        #expect(a.nextDueNanos(now: 46 * ms, inFlight: 0) == 46 * ms, "a queued arrival takes the free slot at once")
        events.removeAll()
        step(46 * ms)
        // The first queued arrival starts, timed from its own slot (10 ms), not from now.
        #expect(events.first == .start(index: 1, intendedNanos: 10 * ms))
    }

    /// A server that never answers: without `max_queue` the queue still stops at the default
    /// bound, and every later arrival is dropped and counted (never an unbounded queue).
    @Test func withoutMaxQueueTheQueueStopsAtTheDefaultBound() {
        var a = OpenArrivals(load: load(rate: 600_000, seconds: 2, maxInFlight: 1), seed: 1, worker: 0, workerCount: 1, startNanos: 0)
        var starts = 0, drops = 0, dues = 0
        a.advance(now: 2000 * ms, inFlight: { starts }) { e in
            switch e {
            case .start: starts += 1
            case .drop: drops += 1
            case .due: dues += 1
            }
        }
        #expect(starts == 1)
        #expect(a.queued == OpenLoad.defaultMaxQueue)
        #expect(drops == dues - 1 - OpenLoad.defaultMaxQueue)
        #expect(drops > 190_000, "\(dues) arrivals came due, \(drops) dropped")
    }

    @Test func workersShareTheScheduleByIndex() {
        var starts: [[UInt64]] = [[], []]
        for w in 0..<2 {
            var a = OpenArrivals(load: load(rate: 50), seed: 3, worker: w, workerCount: 2, startNanos: 0)
            a.advance(now: 2_000 * ms, inFlight: { 0 }) { e in if case .start(let i, _) = e { starts[w].append(i) } }
        }
        #expect(starts[0] == stride(from: 0, to: 50, by: 2).map { UInt64($0) })
        #expect(starts[1] == stride(from: 1, to: 50, by: 2).map { UInt64($0) })
    }

    @Test func aRateChangeAppliesFromItsMoment() {
        let l = load(rate: 10, seconds: 2)
        var a = OpenArrivals(load: l, seed: 1, worker: 0, workerCount: 1, startNanos: 0)
        var times: [UInt64] = []
        a.advance(now: 1000 * ms, inFlight: { 0 }) { e in if case .start(_, let t) = e { times.append(t) } }
        #expect(times.count == 11)   // 0, 100, ..., 1000 ms
        // x2 from 1 s on: the next arrivals come every 50 ms.
        var w = RateWarp()
        w.setScale(2, atBase: l.cumulativeArrivals(atSeconds: 1))
        a.warp = w
        times.removeAll()
        a.advance(now: 1200 * ms, inFlight: { 0 }) { e in if case .start(_, let t) = e { times.append(t) } }
        #expect(times == [1050, 1100, 1150, 1200].map { $0 * ms })
    }
}
