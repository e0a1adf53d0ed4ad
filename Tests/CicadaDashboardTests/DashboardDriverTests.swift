import CicadaCore
import CicadaDashboard
import Testing

/// A host that feeds the closed fixture once and records the actions it is asked to carry out.
final class FakeHost: DashboardHost {
    var pendingSnapshot: Snapshot? = Fixture.closed().snapshot
    var engineResult: DashboardActionResult = .switchedToEngine(deviceLabel: "modelled: A100-80GB")
    private(set) var performed: [DashboardAction] = []
    private(set) var refreshes = 0

    func refresh(_ controller: inout DashboardController) {
        refreshes += 1
        if let s = pendingSnapshot { controller.update(snapshot: s, thresholds: [], lane: 0); pendingSnapshot = nil }
    }

    func perform(_ action: DashboardAction) -> DashboardActionResult {
        performed.append(action)
        return action == .switchToEngine ? engineResult : .done
    }
}

/// A clock that moves by `step` each time it is read.
final class SteppingClock: @unchecked Sendable {
    var now = ContinuousClock.now
    let step: Duration
    init(step: Duration) { self.step = step }
    func read() -> ContinuousClock.Instant { defer { now += step }; return now }
}

@Suite struct DashboardDriverTests {
    func driver(_ screen: RecordingScreen, clock: SteppingClock, canSwitchEngine: Bool = false) -> DashboardDriver {
        let config = DashboardController.Configuration(scenarioName: "predict-smoke", targetDescription: "http://127.0.0.1:8000",
                                                       canSwitchEngine: canSwitchEngine, unicode: screen.unicode)
        let controller = DashboardController(configuration: config, lanes: [DashboardLane(name: "predict-smoke", config: "x")])
        return DashboardDriver(screen: screen, controller: controller, now: { clock.read() })
    }

    @Test func drawsAtMostTenFramesASecond() {
        let screen = RecordingScreen()
        let clock = SteppingClock(step: .milliseconds(10))
        var d = driver(screen, clock: clock)
        let host = FakeHost()
        // Each turn without a key reads the clock once: 100 turns span one second.
        for _ in 0..<100 { d.turn(host: host) }
        #expect(screen.frames.count == 10)
        #expect(screen.frames.allSatisfy { $0.width == 120 && $0.height == 40 })
    }

    @Test func noFrameBeforeTheFirstSnapshot() {
        let screen = RecordingScreen()
        var d = driver(screen, clock: SteppingClock(step: .milliseconds(200)))
        let host = FakeHost()
        host.pendingSnapshot = nil
        for _ in 0..<5 { d.turn(host: host) }
        #expect(screen.frames.isEmpty)
    }

    @Test func keysBecomeActionsAndMessagesOnScreen() throws {
        let screen = RecordingScreen(keys: RecordingScreen.keys("W "))
        var d = driver(screen, clock: SteppingClock(step: .milliseconds(60)))
        let host = FakeHost()
        let quit = d.turn(host: host)
        #expect(!quit)
        #expect(host.performed == [.addUsers(10), .note("users +10 (offset 10)", lane: nil)])
        #expect(try #require(screen.frames.last).text.contains("users +10 (offset 10)"))
        d.turn(host: host)
        #expect(host.performed.suffix(2) == [.pause(true), .note("paused: no new requests start", lane: nil)])
        d.turn(host: host)
        #expect(try #require(screen.frames.last).text.contains("PAUSED"))
    }

    @Test func helpOverlayResizeAndQuit() throws {
        let screen = RecordingScreen(keys: [.character("?"), .resize, nil, .character("q")])
        var d = driver(screen, clock: SteppingClock(step: .milliseconds(60)))
        let host = FakeHost()
        d.turn(host: host)
        #expect(try #require(screen.frames.last).text.contains("Keys"))
        screen.size = (80, 24)
        d.turn(host: host)
        #expect(screen.invalidations == 1)
        d.turn(host: host)
        #expect(try #require(screen.frames.last).width == 80)
        let quits = d.turn(host: host)
        #expect(quits)
        #expect(host.performed.last == .quit)
    }

    @Test func engineSwitchOutcomeComesBackAsAMessage() throws {
        let screen = RecordingScreen(keys: RecordingScreen.keys("ee"))
        var d = driver(screen, clock: SteppingClock(step: .milliseconds(60)), canSwitchEngine: true)
        let host = FakeHost()
        host.engineResult = .failed("address in use")
        d.turn(host: host)
        #expect(host.performed == [.switchToEngine, .note("e: cannot start the engine: address in use", lane: nil)])
        host.engineResult = .switchedToEngine(deviceLabel: "modelled: A100-80GB")
        d.turn(host: host)
        #expect(host.performed.suffix(2) == [.switchToEngine, .note("e: load switched to the embedded engine (modelled: A100-80GB)", lane: nil)])
        #expect(d.controller.onEngine)
    }
}
