import Foundation
import Testing

/// The HTML report end to end: written by `cicada run --html`, rebuilt by `cicada report`, and
/// rendered by a real browser (Debian's headless `chromium`, installed by .ci/run).
let chromiumPath = "/usr/bin/chromium"

@Suite(.serialized) struct HTMLReportE2ETests {
    static let chromium = chromiumPath

    func run(in dir: URL) throws -> (html: URL, json: URL) {
        let file = dir.appendingPathComponent("html.yaml")
        try """
        name: html-e2e
        target: embedded
        users: 6
        spawn_rate: 100
        run_time: 3s
        wait_time: constant(0.01)
        thresholds: ["p(99)<500ms", "error_rate<1%"]
        tasks: [{name: predict, kind: predict, prompt: "hello"}]
        """.write(to: file, atomically: true, encoding: .utf8)
        let html = dir.appendingPathComponent("r.html"), json = dir.appendingPathComponent("r.json")
        let r = try cicada(["run", file.path, "--html", html.path, "--json", json.path], limit: 90)
        #expect(r.status == 0, "\(r.stderr)")
        return (html, json)
    }

    /// Runs chromium headless; its stdout and stderr.
    func chromium(_ args: [String]) throws -> (out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                       "--user-data-dir=\(FileManager.default.temporaryDirectory.path)/cicada-chromium-\(getpid())"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: chromiumPath), "needs /usr/bin/chromium"))
    func aRealBrowserRendersTheCharts() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (html, _) = try run(in: dir)
        let dom = try chromium(["--dump-dom", html.absoluteString])
        // The page's own check after load: how many charts and how many drew with a size.
        let rendered = try #require(dom.out.firstMatch(of: /data-rendered="charts=(\d+) sized=(\d+)"/), "\(dom.out.prefix(300))")
        let charts = Int(String(rendered.1)) ?? 0, sized = Int(String(rendered.2)) ?? -1
        #expect(charts >= 4 && sized == charts, "charts \(charts), sized \(sized)")
        #expect(!dom.err.contains("Uncaught"), "console errors: \(dom.err.split(separator: "\n").filter { $0.contains("CONSOLE") })")
        let png = dir.appendingPathComponent("shot.png")
        _ = try chromium(["--window-size=1100,2600", "--screenshot=\(png.path)", html.absoluteString])
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(bytes.count > 30_000, "a page with charts is not blank: \(bytes.count) bytes")
    }

    @Test func cicadaReportRebuildsThePageAndNamesTheFileOnBadInput() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (html, json) = try run(in: dir)
        let again = dir.appendingPathComponent("again.html")
        let ok = try cicada(["report", json.path, "--html", again.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        let a = try String(contentsOf: html, encoding: .utf8), b = try String(contentsOf: again, encoding: .utf8)
        #expect(a == b, "the page is a function of the JSON report")

        let truncated = dir.appendingPathComponent("truncated.json")
        try Data(try Data(contentsOf: json).prefix(100)).write(to: truncated)
        let bad = try cicada(["report", truncated.path, "--html", dir.appendingPathComponent("x.html").path])
        #expect(bad.status == 2 && bad.stderr.contains("error: \(truncated.path): not a JSON document"), "\(bad.stderr)")
        let missing = try cicada(["report", dir.appendingPathComponent("nope.json").path, "--html", again.path])
        #expect(missing.status == 2 && missing.stderr.contains("nope.json: cannot read"), "\(missing.stderr)")
        let other = dir.appendingPathComponent("other.json")
        try #"{"schema": "cicada.report/v9"}"#.write(to: other, atomically: true, encoding: .utf8)
        let schema = try cicada(["report", other.path, "--html", again.path])
        #expect(schema.status == 2 && schema.stderr.contains("schema cicada.report/v9 is not supported"), "\(schema.stderr)")
    }

    /// A comparison's page: every variant overlaid, changes from the baseline; a browser draws it.
    @Test func aComparisonPageOverlaysTheVariants() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("cmp.yaml")
        try """
        name: cmp-html
        target: embedded
        engine: {gpu: A100-80GB, model: deepseek-llm-7b, cache: {enabled: false}}
        arrival: {rate: 40, max_in_flight: 100}
        run_time: 3s
        tasks: [{name: predict, kind: predict, prompt: "x {{uuid}}"}]
        compare:
          baseline: seed
          variants:
            - {name: seed, preset: seed}
            - {name: no-batching, preset: no-batching}
        """.write(to: file, atomically: true, encoding: .utf8)
        let html = dir.appendingPathComponent("cmp.html"), json = dir.appendingPathComponent("cmp.json")
        let r = try cicada(["run", file.path, "--html", html.path, "--json", json.path], limit: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.contains("<title>cicada: compare seed vs no-batching</title>"))
        #expect(page.contains("<td>seed (baseline)</td>"))
        #expect(page.contains("Throughput by variant") && page.contains("p99 latency by variant"))
        // The embedded data is the comparison report itself.
        let rebuilt = dir.appendingPathComponent("again.html")
        #expect(try cicada(["report", json.path, "--html", rebuilt.path]).status == 0)
        #expect(try String(contentsOf: rebuilt, encoding: .utf8) == page)
        if FileManager.default.isExecutableFile(atPath: chromiumPath) {
            let dom = try chromium(["--dump-dom", html.absoluteString])
            let m = try #require(dom.out.firstMatch(of: /data-rendered="charts=(\d+) sized=(\d+)"/))
            #expect(Int(String(m.1)) == 3 && m.1 == m.2, "\(m.0)")
        }
    }
}
