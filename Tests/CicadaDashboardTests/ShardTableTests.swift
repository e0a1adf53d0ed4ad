import CicadaCore
@testable import CicadaDashboard
import Testing

/// The shard table of `cicada dash --shards`: one row per shard, its state and its answer to the last key.
@Suite struct ShardTableTests {
    static let lines = [
        ShardLine(index: 0, url: "http://10.0.0.7:9646", state: "up", healthy: true, qps: 401.3, p99Micros: 23_900, ack: "ok: users +10"),
        ShardLine(index: 1, url: "http://10.0.0.8:9646", state: "stale 5s", healthy: false, qps: nil, p99Micros: nil,
                  ack: "failed: HTTP 401 missing or wrong bearer token"),
        ShardLine(index: 2, url: "http://10.0.0.9:9646", state: "paused", healthy: true, qps: 0, p99Micros: 1_500, ack: nil),
    ]

    @Test(arguments: [(80, 24), (160, 48)])
    func theTableShowsEveryShardUnderTheHeader(_ width: Int, _ height: Int) throws {
        var m = Fixture.closed()
        m.shards = Self.lines
        let text = DashboardRenderer().render(m, width: width, height: height).text
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let title = try #require(rows.firstIndex { $0.contains("Shards") && $0.contains("2 of 3 answering") }, "\(text)")
        #expect(title == 2, "the shard table sits right under the header")
        #expect(rows[title + 1].contains("Shard") && rows[title + 1].contains("State") && rows[title + 1].contains("p99"))
        #expect(rows[title + 2].contains("up") && rows[title + 2].contains("401.3") && rows[title + 2].contains("23.9ms"), "\(rows[title + 2])")
        #expect(rows[title + 3].contains("stale 5s") && rows[title + 3].contains("failed: HTTP 401"), "\(rows[title + 3])")
        #expect(rows[title + 4].contains("paused"))
        // The rest of the dashboard is still drawn below it.
        #expect(text.contains("Requests"))
        if width >= 160 { #expect(rows[title + 2].contains("http://10.0.0.7:9646")) }
        // A stale shard's state is drawn red.
        let frame = DashboardRenderer().render(m, width: width, height: height)
        let x = try #require(rows[title + 3].range(of: "stale").map { rows[title + 3].distance(from: rows[title + 3].startIndex, to: $0.lowerBound) })
        #expect(frame.cells[(title + 3) * width + x].style.fg == .red)
    }

    @Test func theControllerPassesItsShardLinesToTheModel() throws {
        let c = Controllers.single()
        #expect(c.viewModel(at: Controllers.at(0))?.shards.isEmpty == true)
        c.c.update(shards: Self.lines)
        #expect(c.viewModel(at: Controllers.at(0))?.shards == Self.lines)
    }

    @Test func eSaysTheShardsKeepTheirTargets() {
        var config = DashboardController.Configuration(scenarioName: "s", targetDescription: "2 shards")
        config.followsShards = true
        var c = DashboardController(configuration: config, lanes: [DashboardLane(name: "all shards", config: "")])
        #expect(c.handle(.character("e"), at: Controllers.at(0)) == [.note("e: each shard keeps its own target", lane: nil)])
        #expect(c.message?.text == "e: each shard keeps its own target")
    }
}
