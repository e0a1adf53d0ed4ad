import ArgumentParser
import CicadaCore
import CicadaSession
import Foundation
import Testing
@testable import cicada

/// The distributed-run flags, parsed without running anything.
@Suite struct ShardCommandParseTests {
    @Test func shardStartAtAndOutBecomeTheSessionRequest() throws {
        let r = try Run.parse(["s.yaml", "--shard", "2/4", "--start-at", "2026-12-06T04:00:00.250Z", "--out", "out/run"]).request()
        #expect(r.shard == ShardSpec(index: 2, count: 4))
        #expect(r.startAtUnix == 1_796_529_600.25)
        #expect(r.shardOut == "out/run")
        let d = try Run.parse(["s.yaml"]).request()
        #expect(d.shardOut == nil && d.startAtUnix == nil)
    }

    @Test(arguments: [
        ("2026-12-06T05:00:00+01:00", 1_796_529_600.0),
        ("2026-12-06T04:00:00Z", 1_796_529_600.0),
        ("2026-12-06T04:00:01.5Z", 1_796_529_601.5),
    ])
    func startAtIsRFC3339(_ text: String, _ unix: Double) {
        #expect(RunSession.parseStartAt(text) == unix)
    }

    @Test(arguments: ["2026-12-06 04:00", "2026-12-06T04:00:00", "04:00", "now"])
    func startAtWithoutAZoneIsRefused(_ text: String) throws {
        #expect(RunSession.parseStartAt(text) == nil)
        do { _ = try Run.parse(["s.yaml", "--start-at", text]).request(); Issue.record("accepted \(text)") } catch {
            #expect("\(error)".contains("--start-at '\(text)'"))
        }
    }

    @Test func mergeFlags() throws {
        let m = try Merge.parse(["out/", "a.json", "--min-shards", "3", "--json", "m.json", "--csv", "m", "--junit", "j.xml",
                                 "--summary-md", "s.md", "--artifact", "all.json", "--skew-bound-ms", "20", "--plain"])
        #expect(m.inputs == ["out/", "a.json"] && m.minShards == 3 && m.json == "m.json" && m.csv == "m" && m.junit == "j.xml")
        #expect(m.summaryMd == "s.md" && m.artifact == "all.json" && m.skewBoundMs == 20 && m.plain)
        #expect(throws: (any Error).self) { try Merge.parse([]) }
    }
}
