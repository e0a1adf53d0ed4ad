import Testing
@testable import CicadaCore

@Suite struct TemplateTests {
    let ctx = Template.Context(user: 7, seq: 3, prompts: ["say \"hi\"\n", "two"])

    @Test func rendersPlaceholdersDeterministically() throws {
        let t = try Template(parsing: "/u/{{user}}/{{seq}}?n={{random_int 5 9}}&c={{choice a b}}")
        var r1 = SeededRandom(seed: 1), r2 = SeededRandom(seed: 1)
        let a = t.render(context: ctx, rng: &r1), b = t.render(context: ctx, rng: &r2)
        #expect(a == b)
        #expect(a.hasPrefix("/u/7/3?n="))
        var rng = SeededRandom(seed: 4)
        for _ in 0..<200 {
            let s = try Template(parsing: "{{random_int 5 9}}").render(context: ctx, rng: &rng)
            #expect((5...9).contains(Int(s)!))
        }
    }

    /// Placeholders found among text that is not ASCII, split where they are: the literal parts
    /// come back whole, and braces are matched as the first pair, as before.
    @Test func placeholdersAmongTextThatIsNotASCII() throws {
        var rng = SeededRandom(seed: 1)
        let t = try Template(parsing: "héllo {{seq}} wörld 😀{{user}}}")
        #expect(t.render(context: ctx, rng: &rng) == "héllo 3 wörld 😀7}")
        #expect(t.segments.count == 5)
        #expect(throws: Template.ParseError.self) { try Template(parsing: "{{{seq}}") }
        #expect(try Template(parsing: "a { b } {c}").isConstant)
        // Braces are found by their bytes, whatever joins them: a zero-width joiner or a
        // combining mark after `}}`, a prepended mark before `{{`.
        var r2 = SeededRandom(seed: 1)
        #expect(try Template(parsing: "{{user}}\u{200D}💻").render(context: ctx, rng: &r2) == "7\u{200D}💻")
        #expect(try Template(parsing: "{{seq}}\u{301}").render(context: ctx, rng: &r2) == "3\u{301}")
        #expect(try Template(parsing: "\u{600}{{seq}}").render(context: ctx, rng: &r2) == "\u{600}3")
        #expect(try Template(parsing: "{{user}}ा").render(context: ctx, rng: &r2) == "7ा")
    }

    @Test func jsonEscapingOfSubstitutions() throws {
        let t = try Template(parsing: "{{prompt}}", escaping: .jsonString)
        var rng = SeededRandom(seed: 0)
        var seen = Set<String>()
        for _ in 0..<50 { seen.insert(t.render(context: ctx, rng: &rng)) }
        #expect(seen == ["say \\\"hi\\\"\\n", "two"])
    }

    @Test func uuidIsVersion4() throws {
        var rng = SeededRandom(seed: 8)
        let u = try Template(parsing: "{{uuid}}").render(context: ctx, rng: &rng)
        let parts = u.split(separator: "-")
        #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
        #expect(parts[2].first == "4")
        #expect("89ab".contains(parts[3].first!))
    }

    @Test(arguments: [("{{promt}}", "did you mean 'prompt'"), ("{{random_int 9 1}}", "A <= B"), ("x {{seq", "unclosed"), ("{{}}", "empty"),
                      // FuzzExpressions' finding (the input as it found it, NUL and all): a STDDEV of 4.4e49 trapped
                      // converting a draw to Int; and a span past Int.max would trap computing B - A.
                      ("aa{{random_normal 8 444444444444444444444444444444444444444449.3}}", "within ±1e15"),
                      ("{{random_normal 1e300 1}}", "within ±1e15"), ("{{random_normal 5 inf}}", "within ±1e15"),
                      ("{{random_int -9223372036854775808 9223372036854775807}}", "too far apart")])
    func parseErrors(text: String, fragment: String) {
        do { _ = try Template(parsing: text); Issue.record("parsed") } catch { #expect(error.message.contains(fragment), "\(error.message)") }
    }
}

@Suite struct CheckTests {
    let body = Array(#"{"output": "ok", "n": 2, "cached": false, "items": [{"id": "a"}], "esc": "\u00e9\ud83d\ude00"}"#.utf8)

    @Test func jsonPaths() {
        #expect(Check.jsonExists(JSONPath("$.output")!).failure(status: 200, body: body) == nil)
        #expect(Check.jsonExists(JSONPath("items[0].id")!).failure(status: 200, body: body) == nil)
        #expect(Check.jsonExists(JSONPath("items.0.id")!).failure(status: 200, body: body) == nil)
        #expect(Check.jsonExists(JSONPath("$.missing")!).failure(status: 200, body: body) == "JSON path $.missing missing")
        #expect(Check.jsonEquals(JSONPath("cached")!, .bool(false)).failure(status: 200, body: body) == nil)
        #expect(Check.jsonEquals(JSONPath("n")!, .number(2)).failure(status: 200, body: body) == nil)
        #expect(Check.jsonEquals(JSONPath("n")!, .number(3)).failure(status: 200, body: body) == "JSON path n is 2, expected 3")
        #expect(Check.jsonEquals(JSONPath("esc")!, .string("é😀")).failure(status: 200, body: body) == nil)
        #expect(Check.jsonExists(JSONPath("a")!).failure(status: 200, body: Array("not json".utf8)) == "body is not JSON")
    }

    @Test func statusAndContains() {
        #expect(Check.status([200]).failure(status: 503, body: []) == "status 503 not in 200")
        #expect(Check.contains("ok").failure(status: 200, body: body) == nil)
        #expect(Check.defaultStatus.failure(status: 302, body: []) == nil)
        #expect(Check.defaultStatus.failure(status: 404, body: []) != nil)
    }

    @Test(arguments: ["{", "[1,]", "{\"a\":}", "tru", "\"unterminated", "{\"a\":1}x"])
    func strictParser(text: String) { #expect(JSONValue.parse(Array(text.utf8)) == nil) }
}

@Suite struct RandomNormalTemplateTests {
    @Test func normalLengthsHaveTheirMeanAndStayPositive() throws {
        let t = try Template(parsing: "{{random_normal 64 16}}")
        var rng = SeededRandom(seed: 12)
        let xs = (0..<5000).map { _ in Int(t.render(context: .init(user: 0, seq: 0, prompts: []), rng: &rng))! }
        #expect(xs.allSatisfy { $0 >= 1 })
        #expect(abs(Double(xs.reduce(0, +)) / 5000 - 64) < 1)
        #expect(throws: Template.ParseError.self) { try Template(parsing: "{{random_normal 5 -1}}") }
    }
}
