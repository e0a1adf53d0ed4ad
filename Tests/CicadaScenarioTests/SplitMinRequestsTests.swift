import CicadaCore
import CicadaScenario
import Testing

/// `split.min_requests` (issue 16): the requests each side needs in a step window before the
/// window's canary checks are judged.
@Suite struct SplitMinRequestsTests {
    static func yaml(_ extra: String) -> String {
        """
        users: 2
        tasks: [{path: /}]
        split:
          targets:
            - {name: stable, weight: 90, baseline: true, target: http://127.0.0.1:8080}
            - {name: canary, weight: 10, target: http://127.0.0.1:8081}
          verdict: {p99: "+10%"}
        \(extra)
        """
    }

    @Test func itDefaultsAndIsRead() throws {
        #expect(try parse(Self.yaml("")).split?.minRequests == SplitSpec.defaultMinRequests)
        #expect(try parse(Self.yaml("  min_requests: 200")).split?.minRequests == 200)
    }

    @Test(arguments: ["0", "-3", "lots"])
    func aBadValueNamesTheKeyAndLine(_ value: String) {
        let found = issues(Self.yaml("  min_requests: \(value)"))
        #expect(found.count == 1, "\(found.map(\.description))")
        #expect(found.first?.keyPath == "split.min_requests", "\(found.map(\.description))")
        #expect(found.first?.line == 8, "\(found.map(\.description))")
    }
}
