import CicadaCore
import CicadaDashboard
import Testing

@Suite struct DashboardRendererTests {
    let renderer = DashboardRenderer()

    @Test(arguments: [(80, 24), (160, 48)])
    func closedModelGolden(width: Int, height: Int) throws {
        try Golden.check(renderer.render(Fixture.closed(), width: width, height: height), "closed-\(width)x\(height)")
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func openModelWithEngineAndLLMGolden(width: Int, height: Int) throws {
        try Golden.check(renderer.render(Fixture.open(), width: width, height: height), "open-\(width)x\(height)")
    }

    @Test func asciiWithoutColorGolden() throws {
        var m = Fixture.closed()
        m.unicode = false; m.color = false
        let f = renderer.render(m, width: 80, height: 24)
        try Golden.check(f, "closed-ascii-80x24")
        #expect(f.cells.allSatisfy { $0.char.isASCII })
        #expect(f.cells.allSatisfy { $0.style.fg == .default && !$0.style.dim })
        #expect(f.text.contains("PASS") && f.text.contains("FAIL"))
    }

    @Test func openModelAsciiHasNoUnicode() {
        var m = Fixture.open()
        m.unicode = false; m.color = false
        for (w, h) in [(80, 24), (160, 48)] {
            #expect(renderer.render(m, width: w, height: h).cells.allSatisfy { $0.char.isASCII })
        }
    }

    @Test func tinyTerminalSaysSoInWhatFits() throws {
        let f = renderer.render(Fixture.closed(), width: 40, height: 10)
        try Golden.check(f, "tiny-40x10")
        #expect(f.text == "terminal too small: 40x10, need 80x24\n1m00s / 2m00s\nq quits" + String(repeating: "\n", count: 7))
        #expect(renderer.render(Fixture.closed(), width: 79, height: 24).text.hasPrefix("terminal too small: 79x24"))
        #expect(renderer.render(Fixture.closed(), width: 80, height: 23).text.hasPrefix("terminal too small: 80x23"))
        // 20x5 (the resize of issue 12): wrapped at spaces, nothing lost.
        #expect(renderer.render(Fixture.closed(), width: 20, height: 5).text
                == "terminal too small:\n20x5, need 80x24\n1m00s / 2m00s\nq quits\n")
        // Down to 1x1 and 0x0: whatever fits, never a cell outside the frame.
        #expect(renderer.render(Fixture.closed(), width: 1, height: 1).text == "t")
        #expect(renderer.render(Fixture.closed(), width: 0, height: 0).text == "")
        for (w, h) in [(1, 5), (5, 1), (2, 2), (7, 3), (12, 24), (79, 1), (200, 3), (3, 200)] {
            let small = renderer.render(Fixture.closed(), width: w, height: h)
            #expect(small.width == w && small.height == h && small.cells.count == w * h)
            #expect(small.text.split(separator: "\n").allSatisfy { $0.count <= w })
        }
        var paused = Fixture.closed()
        paused.paused = true
        #expect(renderer.render(paused, width: 30, height: 6).text.contains("PAUSED"))
    }

    @Test func wrapBreaksAtSpacesAndCutsLongWords() {
        #expect(DashboardRenderer.wrap("terminal too small: 20x5", width: 10) == ["terminal", "too small:", "20x5"])
        #expect(DashboardRenderer.wrap("abcdefghij k", width: 4) == ["abcd", "efgh", "ij k"])
        #expect(DashboardRenderer.wrap("a b", width: 0) == [])
        #expect(DashboardRenderer.wrap("", width: 5) == [])
    }

    @Test func helpOverlayGolden() throws {
        var m = Fixture.closed()
        m.showHelp = true
        let f = renderer.render(m, width: 80, height: 24)
        try Golden.check(f, "help-80x24")
        for key in ["space", "w / W", "s / S", "+ / -", "[ / ]", "{ / }"] { #expect(f.text.contains(key)) }
    }

    @Test func pausedMarkerInHeader() {
        var m = Fixture.closed()
        m.paused = true
        let header = renderer.render(m, width: 80, height: 24).text.split(separator: "\n")[1]
        #expect(header.contains("PAUSED"))
    }

    /// Every failure kind the status codes do not show gets its count in the status line
    /// (a kind added later must not be hidden from the live view).
    @Test func everyTransportAndStreamFailureKindIsShown() {
        for kind in FailureKind.allCases where ![.http4xx, .http5xx, .httpOther].contains(kind) {
            var m = Fixture.closed()
            m.snapshot.total.failuresByKind[kind] = 7
            let text = renderer.render(m, width: 160, height: 48).text
            #expect(text.contains("\(kind.rawValue)×7"), "\(kind.rawValue) missing from the status line")
        }
    }

    @Test func saturatedGeneratorWarns() {
        let text = renderer.render(Fixture.open(), width: 160, height: 48).text
        #expect(text.contains("WARNING generator saturated: lag p99"))
        #expect(!renderer.render(Fixture.closed(), width: 160, height: 48).text.contains("WARNING"))
    }

    @Test(arguments: [false, true])
    func absentTelemetryIsNeverAZeroGauge(emptyGPUs: Bool) {
        var m = Fixture.closed()
        if emptyGPUs { m.snapshot.telemetry = TelemetrySummary() } else { m.snapshot.telemetry = nil }
        for (w, h) in [(80, 24), (160, 48)] {
            let text = renderer.render(m, width: w, height: h).text
            #expect(text.contains("no GPU telemetry"))
            #expect(!text.contains("▕") && !text.contains("░") && !text.contains("87.3/141"))
        }
    }

    @Test func engineAndLLMPanelsOnlyWhenPresent() {
        let closed = renderer.render(Fixture.closed(), width: 160, height: 48).text
        #expect(!closed.contains("Engine") && !closed.contains("TTFT"))
        let open = renderer.render(Fixture.open(), width: 160, height: 48).text
        #expect(open.contains("preset seed") && open.contains("TTFT p50") && open.contains("modelled: A100-80GB"))
    }

    @Test func noColorKeepsBoldAndReverseOnly() {
        var m = Fixture.open()
        m.color = false
        let f = renderer.render(m, width: 160, height: 48)
        #expect(f.cells.allSatisfy { $0.style.fg == .default && !$0.style.dim })
        #expect(f.cells.contains { $0.style.bold } && f.cells.contains { $0.style.reverse })
        m.color = true
        #expect(renderer.render(m, width: 160, height: 48).cells.contains { $0.style.fg != .default })
    }

    @Test func everySizeFills() {
        var sizes: [(Int, Int)] = [(0, 0), (1, 1), (79, 24), (80, 24), (81, 25), (139, 30), (140, 30), (300, 100)]
        for w in stride(from: 80, through: 200, by: 7) { for h in stride(from: 24, through: 60, by: 5) { sizes.append((w, h)) } }
        for model in [Fixture.closed(), Fixture.open()] {
            for (w, h) in sizes {
                var m = model
                m.showHelp = (w + h) % 2 == 0
                m.unicode = w % 3 != 0
                let f = renderer.render(m, width: w, height: h)
                #expect(f.cells.count == w * h)
            }
        }
    }

    @Test func emptyRunDrawsGapsNotZeros() {
        var m = Fixture.closed()
        m.history = []
        m.events = []
        let text = renderer.render(m, width: 80, height: 24).text
        #expect(text.contains("no data in the last 60s"))
        #expect(!text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
    }
}

@Suite struct CompareDashboardTests {
    let renderer = DashboardRenderer()

    @Test(arguments: [(100, 30), (160, 48)])
    func compareGolden(width: Int, height: Int) throws {
        try Golden.check(renderer.render(Fixture.compare(), width: width, height: height), "compare-\(width)x\(height)")
    }

    @Test func compareTableMarksFocusBaselineAndChanges() {
        let text = renderer.render(Fixture.compare(), width: 120, height: 36).text
        let lines = text.split(separator: "\n").map(String.init)
        let big = lines.first { $0.contains("big") && $0.contains("199.0") }
        #expect(big?.hasPrefix("▶ ") == true, "the focused variant is marked")
        #expect(big?.contains("+30.2%") == true, "p99 change from the baseline (41.0 vs 31.5 ms)")
        #expect(lines.first { $0.contains("seed") && $0.contains("199.5") }?.contains("base") == true)
        // 6230 ms against 31.5 ms: a ratio, not a five-digit percentage.
        #expect(lines.first { $0.contains("none") && $0.contains("85.8") }?.contains("198×") == true)
        #expect(text.contains("tab focus"))
        #expect(text.contains("Requests big"), "the requests table names the focused variant")
    }

    @Test func overlaidLatencyAxisIsLogarithmicWhenVariantsDifferAHundredfold() {
        let f = renderer.render(Fixture.compare(), width: 120, height: 36)
        // The bottom of the y axis is a power of ten under the lowest p99, not 0.
        #expect(f.text.contains("   10│"))
        var close = Fixture.compare()
        close.variants.removeLast()
        #expect(!renderer.render(close, width: 120, height: 36).text.contains("   10│"))
    }

    @Test func asciiCompareHasNoUnicodeAndKeepsALegend() {
        var m = Fixture.compare()
        m.unicode = false; m.color = false
        let f = renderer.render(m, width: 100, height: 30)
        #expect(f.cells.allSatisfy { $0.char.isASCII })
        // Each variant's line has its glyph in the chart title and the table.
        #expect(f.text.contains("*seed"))
        #expect(f.text.contains("o big"))
        #expect(f.text.contains("dReq/s"))
    }

    @Test func singleRunHasNoCompareTable() {
        #expect(!renderer.render(Fixture.open(), width: 120, height: 36).text.contains("Compare"))
    }
}
