import ArgumentParser
import CicadaSession
import Foundation
import Testing
@testable import cicada

/// `--status-token-env` on the shard and `--token-env` / `--headless` on `cicada dash`, parsed without running anything.
@Suite struct ShardControlFlagsTests {
    @Test func theStatusTokenComesFromTheNamedVariable() throws {
        let name = "CICADA_TEST_STATUS_TOKEN_\(getpid())"
        setenv(name, "s3cret", 1)
        defer { unsetenv(name) }
        #expect(try Run.parse(["s.yaml", "--status-port", "0", "--status-token-env", name]).request().statusToken == "s3cret")
        #expect(try Run.parse(["s.yaml", "--status-port", "0"]).request().statusToken == nil)
        do {
            _ = try Run.parse(["s.yaml", "--status-token-env", name + "_UNSET"]).request()
            Issue.record("an unset variable was taken")
        } catch {
            #expect("\(error)".contains(name + "_UNSET is not set"), "\(error)")
        }
    }

    @Test func dashTakesTheTokenVariableAndHeadless() throws {
        let d = try Dash.parse(["--shards", "http://127.0.0.1:9646", "http://127.0.0.1:9647", "--token-env", "T", "--headless"])
        #expect(d.shards.count == 2 && d.tokenEnv == "T" && d.headless)
        #expect(ShardDash.baseURL("http://h:1/metrics") == "http://h:1")
        #expect(ShardDash.baseURL("http://h:1/") == "http://h:1")
        #expect(ShardDash.baseURL("http://h:1/live") == "http://h:1")
    }
}
