import CicadaCore
import Testing
@testable import CicadaDashboard

/// The warm-up on the live dashboard: shaded on the charts, named in the header.
@Suite struct WarmupDashboardTests {
    let renderer = DashboardRenderer()

    @Test func theWarmUpIsShadedAndLabelled() {
        var m = Fixture.closed()
        m.history = m.history.map { p in var q = p; q.phase = p.t <= 20 ? .warmup : .measured; return q }
        m.snapshot.phase = .warmup
        let text = renderer.render(m, width: 120, height: 40).text
        let lines = text.split(separator: "\n")
        #expect(lines[1].contains("warm-up (not measured)"), "\(lines[1])")
        #expect(text.contains("warm-up"))
        // After it, no shade on the charts (the gauges' own ░ stay) and no header marker.
        var after = Fixture.closed()
        after.snapshot.phase = .measured
        let plain = renderer.render(after, width: 120, height: 40).text
        func shades(_ t: String) -> Int { t.filter { $0 == "░" }.count }
        #expect(shades(text) > shades(plain) + 20, "\(shades(text)) vs \(shades(plain))")
        #expect(!plain.contains("not measured"))
    }

    @Test func asciiShadingHasNoUnicode() {
        var m = Fixture.open()
        m.unicode = false; m.color = false
        m.history = m.history.map { p in var q = p; q.phase = .cooldown; return q }
        let frame = DashboardRenderer().render(m, width: 100, height: 30)
        #expect(frame.cells.allSatisfy { $0.char.isASCII })
        #expect(frame.text.contains("cool-down"))
    }
}
