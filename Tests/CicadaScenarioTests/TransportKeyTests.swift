import CicadaCore
import CicadaScenario
import Testing

/// The `transport:` key (issue 17) and `--transport`'s override of it.
@Suite struct TransportKeyTests {
    @Test(arguments: TransportChoice.allCases)
    func eachChoiceIsRead(choice: TransportChoice) throws {
        let s = try parse("target: http://127.0.0.1:1\ntransport: \(choice.rawValue)\nusers: 1\ntasks: [{path: /}]\n")
        #expect(s.transport == choice)
    }

    @Test func autoIsTheDefaultAndTheFlagOverridesTheFile() throws {
        let s = try parse("target: http://127.0.0.1:1\nusers: 1\ntasks: [{path: /}]\n")
        #expect(s.transport == .auto)
        var o = ScenarioOverrides()
        o.transport = .curl
        #expect(try o.apply(to: s).transport == .curl)
        #expect(try ScenarioOverrides().apply(to: s).transport == .auto)
    }

    @Test func anUnknownTransportIsAnErrorAtItsLine() {
        let found = issues("target: http://127.0.0.1:1\nusers: 1\ntransport: libcurl\ntasks: [{path: /}]\n")
        #expect(found.count == 1)
        #expect(found.first?.keyPath == "transport")
        #expect(found.first?.line == 3)
        #expect(found.first?.message == "expected 'curl', 'fast' or 'auto', found 'libcurl'")
    }
}
