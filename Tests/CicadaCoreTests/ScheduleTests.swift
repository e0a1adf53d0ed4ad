import Foundation
import Testing
@testable import CicadaCore

@Suite struct DurationTextTests {
    /// Found by fuzz/run.sh (FuzzExpressions): a duration too long for `Duration` trapped in
    /// the conversion, so `-t 55555555155s` crashed the tool. Now it is not a duration.
    @Test(arguments: ["55555555155\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{6}ss55155\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{6}ss",
                      "55555555155s", "99999999999h", "1e300", "9223372037s", "3200000000"])
    func durationsTooLongAreRejectedNotACrash(text: String) {
        #expect(DurationText.parse(text) == nil)
        #expect(DurationText.parse(text, defaultUnit: .milliseconds) == nil || text == "3200000000")
    }

    @Test func fromSecondsSaturates() {
        #expect(Duration.fromSeconds(1e30) == .nanoseconds(Int64.max))
        #expect(Duration.fromSeconds(-1e30) == .nanoseconds(Int64.min))
        #expect(Duration.fromSeconds(.nan) == .zero)
        #expect(Duration.fromSeconds(1.5) == .milliseconds(1500))
    }

    @Test(arguments: [
        ("90s", 90.0), ("1h30m", 5400), ("250ms", 0.25), ("1.5s", 1.5), ("2m", 120), ("100us", 0.0001), ("45", 45),
    ])
    func parses(text: String, seconds: Double) {
        #expect(abs(DurationText.parse(text)!.seconds - seconds) < 1e-9)
    }

    @Test func bareNumberTakesTheContextUnit() {
        #expect(DurationText.parse("100", defaultUnit: .milliseconds) == .milliseconds(100))
    }

    @Test(arguments: ["", "abc", "10x", "-5s", "s"])
    func rejects(text: String) { #expect(DurationText.parse(text) == nil) }

    @Test func formats() {
        #expect(DurationText.format(.seconds(90)) == "1m30s")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
        #expect(DurationText.format(.seconds(3600)) == "1h")
        #expect(DurationText.format(.seconds(12)) == "12s")
    }
}

@Suite struct WaitTimeTests {
    @Test func constantAndBetween() {
        var rng = SeededRandom(seed: 1)
        #expect(WaitTime.constant(.seconds(2)).wait(taskTook: .seconds(5), rng: &rng) == .seconds(2))
        for _ in 0..<1000 {
            let w = WaitTime.between(.milliseconds(500), .seconds(2)).wait(taskTook: .zero, rng: &rng)
            #expect(w >= .milliseconds(500) && w <= .seconds(2))
        }
    }

    @Test func pacingSubtractsTaskTimeWithoutCatchUp() {
        var rng = SeededRandom(seed: 1)
        #expect(WaitTime.constantPacing(.seconds(1)).wait(taskTook: .milliseconds(300), rng: &rng) == .milliseconds(700))
        #expect(WaitTime.constantPacing(.seconds(1)).wait(taskTook: .seconds(3), rng: &rng) == .zero)
        #expect(WaitTime.constantThroughput(4).wait(taskTook: .milliseconds(50), rng: &rng) == .milliseconds(200))
        #expect(WaitTime.constantThroughput(4).pacingPeriod == .milliseconds(250))
        #expect(WaitTime.between(.zero, .seconds(1)).pacingPeriod == nil)
    }

    @Test func poissonMeanIsOneOverRate() {
        var rng = SeededRandom(seed: 9)
        let n = 20000
        var sum = 0.0
        for _ in 0..<n { sum += WaitTime.poisson(4).wait(taskTook: .zero, rng: &rng).seconds }
        #expect(abs(sum / Double(n) - 0.25) < 0.01)
    }
}

@Suite struct ClosedLoadTests {
    @Test func spawnsAtTheSpawnRate() {
        let load = ClosedLoad(stages: [UserStage(duration: .seconds(60), users: 10, spawnRate: 2)], waitTime: .none)
        // Locust starts the first user at once, then one every 1/spawn_rate.
        #expect(load.users(at: .zero) == 1)
        #expect(load.users(at: .milliseconds(499)) == 1)
        #expect(load.users(at: .milliseconds(500)) == 2)
        #expect(load.users(at: .seconds(3)) == 7)
        #expect(load.users(at: .milliseconds(4499)) == 9)
        #expect(load.users(at: .milliseconds(4500)) == 10)
        #expect(load.users(at: .seconds(30)) == 10)
        #expect(load.duration == .seconds(60))
    }

    @Test func stagesStartFromWhereThePreviousEnded() {
        let load = ClosedLoad(stages: [
            UserStage(duration: .seconds(10), users: 10, spawnRate: 5),
            UserStage(duration: .seconds(10), users: 30, spawnRate: 10),
            UserStage(duration: .seconds(10), users: 0, spawnRate: 20),
        ], waitTime: .none)
        #expect(load.users(at: .seconds(1)) == 6)
        #expect(load.users(at: .seconds(9)) == 10)
        #expect(load.users(at: .seconds(11)) == 21)
        #expect(load.users(at: .seconds(15)) == 30)
        #expect(load.users(at: .milliseconds(19999)) == 30)
        #expect(load.users(at: .seconds(20)) == 29)
        #expect(load.users(at: .seconds(21)) == 9)
        #expect(load.users(at: .milliseconds(21600)) == 0)
        #expect(load.peakUsers == 30)
        #expect(load.duration == .seconds(30))
    }

    @Test func sharesDealUsersRoundRobin() {
        #expect((0..<4).map { RunControl.share(of: 10, worker: $0, workerCount: 4) } == [3, 3, 2, 2])
        #expect((0..<4).map { RunControl.share(of: 0, worker: $0, workerCount: 4) } == [0, 0, 0, 0])
        #expect((0..<3).map { RunControl.share(of: 2, worker: $0, workerCount: 3) } == [1, 1, 0])
    }
}

@Suite struct ArrivalScheduleTests {
    @Test func constantRateSpacesArrivalsExactly() {
        var s = ArrivalSchedule(load: .constant(rate: 100, duration: .seconds(2)), seed: 1)
        var times: [UInt64] = []
        while let a = s.next() { times.append(a.offsetNanos) }
        #expect(times.count == 200)
        #expect(times[0] == 0)
        #expect(times[1] == 10_000_000)
        #expect(times[199] == 1_990_000_000)
    }

    @Test func sameSeedSameSchedule() {
        let load = OpenLoad.constant(rate: 500, duration: .seconds(1), process: .gamma(burstiness: 0.5))
        var a = ArrivalSchedule(load: load, seed: 42), b = ArrivalSchedule(load: load, seed: 42), c = ArrivalSchedule(load: load, seed: 43)
        var ta: [UInt64] = [], tb: [UInt64] = [], tc: [UInt64] = []
        while let x = a.next() { ta.append(x.offsetNanos) }
        while let x = b.next() { tb.append(x.offsetNanos) }
        while let x = c.next() { tc.append(x.offsetNanos) }
        #expect(ta == tb)
        #expect(ta != tc)
    }

    @Test(arguments: [1.0, 0.5, 4.0])
    func gammaGapsHaveMeanOneOverRateAndVarianceByBurstiness(burstiness: Double) {
        var s = ArrivalSchedule(load: .constant(rate: 1000, duration: .seconds(60), process: .gamma(burstiness: burstiness)), seed: 5)
        var prev: UInt64? = nil
        var gaps: [Double] = []
        while let a = s.next() { if let p = prev { gaps.append(Double(a.offsetNanos - p) / 1e9) }; prev = a.offsetNanos }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        // Gamma(k, 1/(r k)): mean 1/r, squared coefficient of variation 1/k.
        #expect(abs(mean - 0.001) / 0.001 < 0.02)
        #expect(abs(variance / (mean * mean) - 1 / burstiness) / (1 / burstiness) < 0.08)
    }

    @Test func rampingRateIsLinearBetweenStages() {
        let load = OpenLoad(startRate: 0, stages: [RateStage(duration: .seconds(10), rate: 100), RateStage(duration: .seconds(10), rate: 100)],
                            process: .constant, maxInFlight: 10, maxQueue: nil)
        #expect(load.rate(at: .seconds(5)) == 50)
        #expect(load.rate(at: .seconds(15)) == 100)
        var s = ArrivalSchedule(load: load, seed: 1)
        var first10 = 0, total = 0
        while let a = s.next() { total += 1; if a.offsetNanos < 10_000_000_000 { first10 += 1 } }
        // Ramp 0 -> 100/s over 10 s offers ~500 arrivals, then 1000 in the hold.
        #expect(abs(first10 - 500) < 25)
        #expect(abs(total - 1500) < 30)
    }
}

@Suite struct ExponentialRampTests {
    @Test func exponentialRampDoublesAtEqualSteps() {
        let load = OpenLoad(startRate: 10, stages: [RateStage(duration: .seconds(10), rate: 1000, ramp: .exponential)],
                            process: .constant, maxInFlight: 10, maxQueue: nil)
        #expect(abs(load.rate(at: .seconds(5)) - 100) < 1e-6)
        // Integral of 10 * 100^(t/10) over 10 s = (1000 - 10) * 10 / ln(100).
        let expected = 990 * 10 / log(100.0)
        #expect(abs(load.cumulativeArrivals(atSeconds: 10) - expected) < 1e-6)
        // The inverse maps back.
        for n in [1.0, 50, 500, expected - 1] {
            let t = load.secondsForCumulativeArrivals(n)!
            #expect(abs(load.cumulativeArrivals(atSeconds: t) - n) < 1e-6)
        }
        var s = ArrivalSchedule(load: load, seed: 1)
        var firstHalf = 0, total = 0
        while let a = s.next() { total += 1; if a.offsetNanos < 5_000_000_000 { firstHalf += 1 } }
        #expect(abs(Double(total) - expected) <= 2)
        // Most arrivals come late in an exponential ramp: (100-10)*10/ln(100) ~ 195 in the first half.
        #expect(abs(Double(firstHalf) - 90 * 10 / log(100.0)) <= 2)
    }

    @Test func exponentialFromZeroFallsBackToLinear() {
        let load = OpenLoad(startRate: 0, stages: [RateStage(duration: .seconds(10), rate: 100, ramp: .exponential)],
                            process: .constant, maxInFlight: 10, maxQueue: nil)
        #expect(load.rate(at: .seconds(5)) == 50)
    }
}

@Suite struct RateWarpTests {
    @Test func withoutChangesPositionsAreTheScenariosExpectedArrivals() {
        let w = RateWarp()
        #expect(w.base(forPosition: 700) == 700)
        #expect(w.position(atBase: 700) == 700)
    }

    @Test func aFasterRateStartsFromNowAndMovesNothingAlreadyDue() {
        var w = RateWarp()
        w.setScale(2, atBase: 1000)
        // Due before the change: unchanged.
        #expect(w.base(forPosition: 800) == 800)
        // After it: twice as many positions per expected arrival.
        #expect(w.base(forPosition: 1000) == 1000)
        #expect(w.base(forPosition: 1200) == 1100)
        #expect(w.position(atBase: 1200) == 1400)
    }

    @Test func changesCompose() {
        var w = RateWarp()
        w.setScale(2, atBase: 1000)        // position 1000 at base 1000
        w.setScale(0.5, atBase: 1200)      // position 1400 at base 1200
        #expect(w.base(forPosition: 1500) == 1400)
        #expect(w.position(atBase: 1400) == 1500)
        // Every position not yet reached lands at or after the moment of the change.
        for k in 0..<100 { #expect(w.base(forPosition: 1400 + Double(k)) >= 1200) }
    }

    @Test func theScheduleKeepsItsClockAndRunsToTheEnd() {
        // 100/s for 3 s; x2 from 1 s: 100 arrivals in the first second, then 200/s to the end.
        let load = OpenLoad(startRate: 100, stages: [RateStage(duration: .seconds(3), rate: 100)], process: .constant, maxInFlight: 100, maxQueue: nil)
        var w = RateWarp()
        w.setScale(2, atBase: load.cumulativeArrivals(atSeconds: 1))
        var schedule = ArrivalSchedule(load: load, seed: 1)
        var offsets: [UInt64] = []
        while true {
            let a = schedule.nextPosition()
            guard let t = schedule.offsetNanos(forPosition: a.position, warp: w) else { break }
            offsets.append(t)
        }
        #expect(offsets.count == 500)
        #expect(offsets.filter { $0 < 1_000_000_000 }.count == 100)
        #expect(offsets[150] == 1_250_000_000)
        #expect(offsets.last! < 3_000_000_000)
    }

    @Test func runControlKeepsTheWarpAndTheMultiplier() {
        let c = RunControl()
        let s: UInt64 = 1_000_000_000
        c.runStartNanos = 100 * s
        c.openLoad = OpenLoad(startRate: 10, stages: [RateStage(duration: .seconds(60), rate: 10)], process: .constant, maxInFlight: 10, maxQueue: nil)
        c.setRateScale(1.5, nowNanos: 110 * s)
        #expect(c.rateScale == 1.5)
        #expect(abs(c.warp.anchorBase - 100) < 1e-9 && abs(c.warp.anchorPosition - 100) < 1e-9)
        #expect(abs(c.warp.base(forPosition: 115) - 110) < 1e-9)
    }

    /// The dashboard's `+`/`-` set `rateScale`, which dates the change on the run's own clock
    /// (the one the run's start was read on), so a run in virtual time changes rate at the
    /// virtual moment, not at the wall clock's.
    @Test func aLiveRateChangeIsDatedOnTheRunsClock() {
        let s: UInt64 = 1_000_000_000
        let clock = ManualTimeSource(startNanos: 100 * s)
        let c = RunControl(clock: clock)
        c.runStartNanos = clock.nowNanos()
        c.openLoad = OpenLoad(startRate: 10, stages: [RateStage(duration: .seconds(60), rate: 10)], process: .constant, maxInFlight: 10, maxQueue: nil)
        clock.advance(by: .seconds(4))
        c.rateScale = 2
        // 40 arrivals by 4 s at 10/s; from then on twice as fast.
        #expect(abs(c.warp.anchorBase - 40) < 1e-9 && abs(c.warp.anchorPosition - 40) < 1e-9)
        #expect(abs(c.warp.base(forPosition: 60) - 50) < 1e-9)
    }
}
