import CicadaCore
import CicadaReport
import Testing

@Suite struct MarkdownSummaryTests {
    @Test func failedRun() {
        let expected = """
        ## ❌ cicada: checkout failed

        `http://127.0.0.1:8080` · closed: 10 users, wait constant(1s) · 60.0s · completed

        | | Threshold | Measured |
        |---|---|---|
        | ❌ | `p(99)<100ms` | 123.5ms |
        | ✅ | `error_rate<20%` | 15.38% |
        | ✅ | `health: p(95)<10ms` | 0.700ms |
        | ❌ | `health: ttfb.p(95)<5ms` | no data |

        | Name | Requests | Failures | Req/s | p50 | p95 | p99 | Max |
        |---|--:|--:|--:|--:|--:|--:|--:|
        | predict | 10 | 2 | 0.2 | 3.00ms | 123.5ms | 123.5ms | 123.5ms |
        | health | 3 | 0 | 0.1 | 0.600ms | 0.700ms | 0.700ms | 0.700ms |
        | **Aggregated** | 13 | 2 | 0.2 | 2.50ms | 123.5ms | 123.5ms | 123.5ms |

        """
        #expect(MarkdownSummary.render(Fixture.result()) == expected)
    }

    @Test func passedRunAndEscaping() {
        var snap = Fixture.snapshot()
        snap.names = ["a|b", "health"]
        let text = MarkdownSummary.render(Fixture.result(snapshot: snap, verdicts: [("error_rate<20%", true, 0.1)]))
        #expect(text.hasPrefix("## ✅ cicada: checkout passed\n"))
        #expect(text.contains("| a\\|b | 10 |"))
        #expect(text.contains("| ✅ | `error_rate<20%` | 10.00% |"))
    }

    @Test func interruptedRunFailsAndEmptyValuesAreDashes() {
        let text = MarkdownSummary.render(Fixture.emptyResult())
        #expect(text.hasPrefix("## ❌ cicada: empty failed\n"))
        #expect(text.contains("No thresholds."))
        #expect(text.contains("| predict | 0 | 0 | - | - | - | - | - |"))
    }
}
