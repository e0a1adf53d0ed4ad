import CicadaCore
@testable import CicadaDashboard
import Testing

/// A controller behind a reference, so a key can be pressed inside `#expect` (whose closures
/// cannot call a mutating method on a local value).
@dynamicMemberLookup
final class Ctl {
    var c: DashboardController
    init(_ c: DashboardController) { self.c = c }
    subscript<T>(dynamicMember path: KeyPath<DashboardController, T>) -> T { c[keyPath: path] }
    func handle(_ key: Key, at now: ContinuousClock.Instant) -> [DashboardAction] { c.handle(key, at: now) }
    func complete(_ a: DashboardAction, with r: DashboardActionResult, at now: ContinuousClock.Instant) -> [DashboardAction] { c.complete(a, with: r, at: now) }
    func update(engine: EngineReading?, lane: Int) { c.update(engine: engine, lane: lane) }
    func append(_ p: TimelinePoint, lane: Int) { c.append(p, lane: lane) }
    func viewModel(at now: ContinuousClock.Instant) -> DashboardModel? { c.viewModel(at: now) }
    func frame(width: Int, height: Int, at now: ContinuousClock.Instant) -> Frame? { c.frame(width: width, height: height, at: now) }
}

/// Controllers over the renderer fixtures' snapshots, with time passed in.
enum Controllers {
    static let t0 = ContinuousClock.now

    static func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    static func engine(preset: String = "seed", maxBatch: Int = 32, delayMicros: UInt64 = 500) -> EngineReading {
        var line = Fixture.open().engine!
        line.presetName = preset; line.maxBatchSize = maxBatch; line.maxQueueDelayMicros = delayMicros
        return EngineReading(line: line, memoryFraction: 0.25, presetNames: ["seed", "low-latency", "throughput"],
                             baseURL: "http://127.0.0.1:9000")
    }

    /// A single closed-model run with the closed fixture's snapshot fed in.
    static func single(open: Bool = false, canSwitchEngine: Bool = false, startsOnEngine: Bool = false) -> Ctl {
        let config = DashboardController.Configuration(scenarioName: "predict-smoke", targetDescription: "http://127.0.0.1:8000",
                                                       runTime: .seconds(120), isOpenModel: open, canSwitchEngine: canSwitchEngine,
                                                       startsOnEngine: startsOnEngine)
        var c = DashboardController(configuration: config, lanes: [DashboardLane(name: "predict-smoke", config: "http://127.0.0.1:8000", p99ThresholdMillis: 100)])
        let m = open ? Fixture.open() : Fixture.closed()
        c.update(snapshot: m.snapshot, thresholds: m.thresholds, lane: 0)
        for p in m.history { c.append(p, lane: 0) }
        return Ctl(c)
    }

    /// Three compared engine variants; `seed` is the baseline.
    static func compare() -> Ctl {
        let config = DashboardController.Configuration(scenarioName: "chat-open", targetDescription: "compare seed vs big vs none",
                                                       isOpenModel: true, canSwitchEngine: true)
        let lanes = [DashboardLane(name: "seed", config: "seed", isBaseline: true),
                     DashboardLane(name: "big", config: "big", isBaseline: false, presetIndex: 2),
                     DashboardLane(name: "none", config: "http://127.0.0.1:7000", isBaseline: false)]
        var c = DashboardController(configuration: config, lanes: lanes)
        let m = Fixture.open()
        for i in 0..<3 { c.update(snapshot: m.snapshot, thresholds: m.thresholds, lane: i) }
        c.update(engine: engine(), lane: 0)
        c.update(engine: engine(preset: "throughput", maxBatch: 64, delayMicros: 10_000), lane: 1)
        return Ctl(c)
    }
}

@Suite struct DashboardControllerTests {
    let now = Controllers.at(1)

    @Test(arguments: [("w", 1), ("W", 10), ("s", -1), ("S", -10)])
    func userKeysAddToEveryLaneAndSaySo(key: Character, delta: Int) throws {
        let c = Controllers.single()
        let text = "users \(delta > 0 ? "+" : "")\(delta) (offset \(delta))"
        #expect(c.handle(.character(key), at: now) == [.addUsers(delta), .note(text, lane: nil)])
        #expect(c.userOffset == delta)
        let m = try #require(c.viewModel(at: now))
        #expect(m.message == text)
        #expect(m.events.last == RunEvent(t: 60, kind: "u", detail: text))
    }

    @Test func userOffsetAccumulates() {
        let c = Controllers.single()
        _ = c.handle(.character("W"), at: now)
        _ = c.handle(.character("w"), at: now)
        #expect(c.handle(.character("S"), at: now) == [.addUsers(-10), .note("users -10 (offset 1)", lane: nil)])
    }

    @Test func userKeysInTheOpenModelOnlyExplain() {
        let c = Controllers.single(open: true)
        #expect(c.handle(.character("w"), at: now) == [.note("users apply to the closed model; use +/- for the arrival rate", lane: nil)])
        #expect(c.userOffset == 0)
    }

    @Test func rateKeysScaleByTenPercent() {
        let c = Controllers.single(open: true)
        #expect(c.handle(.character("+"), at: now) == [.setRateScale(1.1), .note("arrival rate x\(Format.number(1.1, digits: 2))", lane: nil)])
        #expect(c.handle(.character("="), at: now).first == .setRateScale(1.1 * 1.1))
        let down = 1.1 * 1.1 / 1.1
        #expect(c.handle(.character("-"), at: now) == [.setRateScale(down), .note("arrival rate x\(Format.number(down, digits: 2))", lane: nil)])
    }

    @Test func rateKeysInTheClosedModelOnlyExplain() {
        let c = Controllers.single()
        #expect(c.handle(.character("+"), at: now) == [.note("the arrival rate applies to the open model; use w/s for users", lane: nil)])
        #expect(c.rateScale == 1)
    }

    @Test func spacePausesAndResumes() throws {
        let c = Controllers.single()
        #expect(c.handle(.character(" "), at: now) == [.pause(true), .note("paused: no new requests start", lane: nil)])
        #expect(try #require(c.viewModel(at: now)).paused)
        #expect(c.handle(.character(" "), at: now) == [.pause(false), .note("resumed", lane: nil)])
        #expect(try !#require(c.viewModel(at: now)).paused)
    }

    @Test func resetClearsHistoriesAndMarksThenMarksTheReset() throws {
        let c = Controllers.compare()
        for i in 0..<3 { c.append(TimelinePoint(t: 1, users: 0, qps: 1, failuresPerSecond: 0, p50Millis: 1, p95Millis: 1, p99Millis: 1), lane: i) }
        _ = c.handle(.character("t"), at: now)
        #expect(c.handle(.character("r"), at: now) == [.reset, .note("statistics reset", lane: nil)])
        #expect(c.lanes.allSatisfy { $0.history.isEmpty })
        #expect(c.marks.map(\.detail) == ["statistics reset"])
    }

    @Test func tabOutsideAComparisonExplainsWithoutAMark() {
        let c = Controllers.single()
        #expect(c.handle(.character("\t"), at: now) == [.note("tab moves the focus between the variants of a compare: run", lane: nil)])
        #expect(c.focus == 0)
        #expect(c.marks.isEmpty)
    }

    @Test func tabCyclesTheFocusAcrossCompareLanes() throws {
        let c = Controllers.compare()
        for expected in ["big", "none", "seed"] {
            #expect(c.handle(.character("\t"), at: now) == [.note("focus: \(expected)", lane: nil)])
            let m = try #require(c.viewModel(at: now))
            #expect(m.variants[m.focusedVariant].name == expected)
            #expect(m.targetDescription == "compare seed vs big vs none (focus: \(expected))")
        }
        #expect(c.marks.isEmpty)
    }

    @Test func batchingKeysActOnTheFocusedLaneOnly() {
        let c = Controllers.compare()
        _ = c.handle(.character("\t"), at: now)
        #expect(c.handle(.character("b"), at: now) == [.applyBatchPreset(lane: 1, index: 0), .note("big: batching preset: seed", lane: 1)])
        #expect(c.lanes.map(\.presetIndex) == [0, 0, 0])
        #expect(c.handle(.character("]"), at: now) == [.scaleQueueDelay(lane: 1, factor: 2), .note("big: max queue delay 20.00 ms", lane: 1)])
        #expect(c.handle(.character("["), at: now) == [.scaleQueueDelay(lane: 1, factor: 0.5), .note("big: max queue delay 5.00 ms", lane: 1)])
        #expect(c.handle(.character("}"), at: now) == [.setMaxBatchSize(lane: 1, size: 128), .note("big: max batch size 128", lane: 1)])
        #expect(c.handle(.character("{"), at: now) == [.setMaxBatchSize(lane: 1, size: 32), .note("big: max batch size 32", lane: 1)])
        _ = c.handle(.character("\t"), at: now)
        #expect(c.handle(.character("b"), at: now) == [.note("none: not an engine variant", lane: nil)])
        #expect(c.handle(.character("]"), at: now) == [.note("none: not an engine variant", lane: nil)])
    }

    @Test func batchingKeysInASingleRun() {
        let c = Controllers.single()
        #expect(c.handle(.character("b"), at: now) == [.note("no embedded engine in this run (start it with --engine)", lane: nil)])
        #expect(c.handle(.character("{"), at: now) == [.note("no embedded engine in this run", lane: nil)])
        c.update(engine: Controllers.engine(maxBatch: 1, delayMicros: 500), lane: 0)
        #expect(c.handle(.character("b"), at: now) == [.applyBatchPreset(lane: 0, index: 1), .note("batching preset: low-latency", lane: nil)])
        #expect(c.handle(.character("{"), at: now) == [.setMaxBatchSize(lane: 0, size: 1), .note("max batch size 1", lane: nil)])
        #expect(c.handle(.character("["), at: now) == [.scaleQueueDelay(lane: 0, factor: 0.5), .note("max queue delay 0.25 ms", lane: nil)])
    }

    @Test func queueDelayMessageStopsAtAnHour() {
        #expect(DashboardController.scaledQueueDelay(3_000_000_000, by: 2) == 3_600_000_000)
        #expect(DashboardController.scaledQueueDelay(3, by: 0.5) == 2)
    }

    @Test func eSwitchesToTheEngineAndBack() throws {
        let c = Controllers.single(canSwitchEngine: true)
        #expect(c.handle(.character("e"), at: now) == [.switchToEngine])
        #expect(!c.onEngine)
        c.update(engine: Controllers.engine(), lane: 0)
        #expect(c.complete(.switchToEngine, with: .switchedToEngine(deviceLabel: "modelled: A100"), at: now)
                == [.note("e: load switched to the embedded engine (modelled: A100)", lane: nil)])
        let on = try #require(c.viewModel(at: now))
        #expect(on.targetDescription == "embedded engine http://127.0.0.1:9000 (modelled)")
        #expect(on.engine?.presetName == "seed")
        #expect(c.handle(.character("e"), at: now) == [.switchToTarget, .note("e: load back on the scenario's target", lane: nil)])
        let off = try #require(c.viewModel(at: now))
        #expect(off.targetDescription == "http://127.0.0.1:8000")
        #expect(off.engine == nil)
    }

    @Test func eReportsAnEngineThatWouldNotStart() {
        let c = Controllers.single(canSwitchEngine: true)
        _ = c.handle(.character("e"), at: now)
        #expect(c.complete(.switchToEngine, with: .failed("no port"), at: now) == [.note("e: cannot start the engine: no port", lane: nil)])
        #expect(!c.onEngine)
        #expect(c.complete(.pause(true), with: .done, at: now).isEmpty)
    }

    @Test func eWithNothingToSwitchExplains() {
        let single = Controllers.single(startsOnEngine: true)
        #expect(single.handle(.character("e"), at: now)
                == [.note("e: the scenario's target is the embedded engine; there is nothing to switch back to", lane: nil)])
        let compare = Controllers.compare()
        #expect(compare.handle(.character("e"), at: now) == [.note("e: each variant keeps its own target in a comparison", lane: nil)])
    }

    @Test func tCyclesTheChartSpan() throws {
        let c = Controllers.single()
        for span in [60, 300, 10] {
            #expect(c.handle(.character("t"), at: now) == [.note("chart span \(span)s", lane: nil)])
            #expect(try #require(c.viewModel(at: now)).windowSeconds == span)
        }
    }

    @Test func questionMarkTogglesHelp() throws {
        let c = Controllers.single()
        #expect(c.handle(.character("?"), at: now).isEmpty)
        #expect(try #require(c.viewModel(at: now)).showHelp)
        #expect(c.handle(.character("?"), at: now).isEmpty)
        #expect(try !#require(c.viewModel(at: now)).showHelp)
    }

    @Test func quitResizeAndOtherKeys() {
        let c = Controllers.single()
        #expect(c.handle(.character("q"), at: now) == [.quit])
        #expect(c.handle(.resize, at: now) == [.redraw])
        #expect(c.handle(.other(259), at: now).isEmpty)
        #expect(c.handle(.character("x"), at: now).isEmpty)
        #expect(c.message == nil)
    }

    @Test func messagesLastThreeSeconds() throws {
        let c = Controllers.single()
        _ = c.handle(.character("t"), at: Controllers.at(10))
        #expect(try #require(c.viewModel(at: Controllers.at(12.9))).message == "chart span 60s")
        #expect(try #require(c.viewModel(at: Controllers.at(13))).message == nil)
    }

    @Test func noModelBeforeTheFirstSnapshotAndNoMarkEither() {
        let c = Ctl(DashboardController(configuration: .init(scenarioName: "s", targetDescription: "t"), lanes: [DashboardLane(name: "s", config: "t")]))
        _ = c.handle(.character("w"), at: now)
        #expect(c.viewModel(at: now) == nil)
        #expect(c.frame(width: 80, height: 24, at: now) == nil)
        #expect(c.marks.isEmpty)
    }

    @Test func historyAndMarksAreBounded() {
        let c = Controllers.single()
        for t in 0..<700 { c.append(TimelinePoint(t: Double(t), users: 1, qps: 1, failuresPerSecond: 0, p50Millis: 1, p95Millis: 1, p99Millis: 1), lane: 0) }
        #expect(c.lanes[0].history.count == DashboardLane.historyLimit)
        #expect(c.lanes[0].history.last?.t == 699)
        for _ in 0..<250 { _ = c.handle(.character("w"), at: now) }
        #expect(c.marks.count == DashboardController.markLimit)
    }

    @Test func singleRunModelCarriesTheLaneAndConfiguration() throws {
        let c = Controllers.single()
        _ = c.handle(.character("t"), at: now)
        let m = try #require(c.viewModel(at: now))
        let fixture = Fixture.closed()
        #expect(m.scenarioName == "predict-smoke")
        #expect(m.runTime == .seconds(120))
        #expect(m.thresholds == fixture.thresholds)
        #expect(m.history == fixture.history)
        #expect(m.p99ThresholdMillis == 100)
        #expect(m.windowSeconds == 60)
        #expect(m.variants.isEmpty)
        #expect(m.engine == nil)
        c.update(engine: Controllers.engine(), lane: 0)
        #expect(try #require(c.viewModel(at: now)).engine == nil, "the engine panel shows only while the load is on the engine")
    }

    @Test func compareModelHasOneVariantPerLane() throws {
        let c = Controllers.compare()
        let m = try #require(c.viewModel(at: now))
        #expect(m.variants.map(\.name) == ["seed", "big", "none"])
        #expect(m.variants.map(\.config) == ["seed: max 32, 500us", "throughput: max 64, 10.00ms", "http://127.0.0.1:7000"])
        #expect(m.variants.map(\.isBaseline) == [true, false, false])
        #expect(m.variants[0].memoryFraction == 0.25)
        #expect(m.variants[2].averageBatchSize == nil)
        let window = try #require(Fixture.open().snapshot.windows[10])
        #expect(m.variants[0].qps == window.qps)
        #expect(m.variants[0].p99 == window.total.corrected.percentile(99))
        #expect(m.engine?.presetName == "seed", "a comparison always shows the focused engine")
    }
}

/// The diagnoses panel: the rules run on each snapshot the controller takes, and each keeps the
/// time it first fired.
@Suite struct DiagnosesPanelTests {
    @Test func rulesRunOnEachSnapshotAndKeepWhenTheyFired() throws {
        let c = Controllers.single(open: true)
        // The open fixture's generator is behind (lag p99 over 10 ms).
        let model = try #require(c.viewModel(at: Controllers.at(0)))
        let behind = try #require(model.diagnoses.first { $0.rule == "generator_behind" })
        #expect(behind.firedAtSeconds == model.snapshot.elapsed.seconds)
        var later = model.snapshot
        later.elapsed = later.elapsed + .seconds(30)
        c.c.update(snapshot: later, thresholds: model.thresholds, lane: 0)
        #expect(c.viewModel(at: Controllers.at(1))?.diagnoses.first { $0.rule == "generator_behind" }?.firedAtSeconds == behind.firedAtSeconds)
        // A rule turned off in the scenario does not show.
        var config = c.configuration
        config.diagnosisLimits.off = ["generator_behind"]
        var quiet = DashboardController(configuration: config, lanes: [DashboardLane(name: "x", config: "y")])
        quiet.update(snapshot: model.snapshot, thresholds: [], lane: 0)
        #expect(quiet.viewModel(at: Controllers.at(0))?.diagnoses.contains { $0.rule == "generator_behind" } == false)
    }

    @Test func thePanelShowsNewestFirstWithTheTime() {
        var m = Fixture.closed()
        m.diagnoses = [
            Diagnosis(rule: "gpu_out_of_memory", severity: .critical, symptom: "the server ran out of GPU memory", cause: "", evidence: [], action: "", firedAtSeconds: 42),
            Diagnosis(rule: "generator_behind", severity: .warning, symptom: "the load generator fell behind", cause: "", evidence: [], action: "", firedAtSeconds: 7),
        ]
        for (w, h) in [(80, 24), (160, 48)] {
            let text = DashboardRenderer().render(m, width: w, height: h).text
            #expect(text.contains("Diagnoses"), "\(w)x\(h)")
            #expect(text.contains("42s ✗ gpu_out_of_memory"), "\(w)x\(h)")
            #expect(text.contains("7s ⚠ generator_behind"), "\(w)x\(h)")
        }
        #expect(!DashboardRenderer().render(Fixture.closed(), width: 160, height: 48).text.contains("Diagnoses"))
        m.unicode = false
        #expect(DashboardRenderer().render(m, width: 160, height: 48).text.contains("42s x gpu_out_of_memory"))
    }
}
