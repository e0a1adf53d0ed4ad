import CicadaEngine
import Testing

@Suite struct MD5Tests {
    /// RFC 1321's test suite (appendix A.5).
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func rfc1321Vectors(_ input: String, _ digest: String) {
        #expect(MD5.hex(input) == digest)
    }

    @Test func paddingBoundariesAndUTF8() {
        // 55, 56 and 64 bytes straddle the one-block/two-block padding boundary.
        #expect(MD5.hex(String(repeating: "a", count: 55)) == "ef1772b6dff9a122358552954ad0df65")
        #expect(MD5.hex(String(repeating: "a", count: 56)) == "3b0c8ac703f828b04c6c197006d17218")
        #expect(MD5.hex(String(repeating: "a", count: 64)) == "014842d480b571495a4a0363793f7367")
        // Python: hashlib.md5("héllo".encode()).hexdigest()
        #expect(MD5.hex("héllo") == "be50e8478cf24ff3595bc7307fb91b50")
    }
}

@Suite struct RESPTests {
    @Test func commandsAreArraysOfBulkStrings() {
        #expect(String(decoding: RESP.command("SETEX", "ds_cache:k", "3600", "a b\r\n"), as: UTF8.self)
                == "*4\r\n$5\r\nSETEX\r\n$10\r\nds_cache:k\r\n$4\r\n3600\r\n$5\r\na b\r\n\r\n")
    }

    static let stream = Array("+OK\r\n-ERR wrong type\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n$0\r\n\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n*-1\r\n".utf8)
    static let values: [RESPValue] = [.simple("OK"), .error("ERR wrong type"), .integer(-42), .bulk(Array("he\r\nl".utf8)), .bulk(nil),
                                      .bulk([]), .array([.bulk(Array("a".utf8)), .array([.integer(7)])]), .array(nil)]

    @Test func decodesEveryReplyTypeWhateverTheSplit() throws {
        for cut in 0...Self.stream.count {
            var d = RESP.Decoder()
            var got: [RESPValue] = []
            d.feed(Self.stream[..<cut])
            while let v = try d.next() { got.append(v) }
            d.feed(Self.stream[cut...])
            while let v = try d.next() { got.append(v) }
            #expect(got == Self.values, "split at \(cut)")
            #expect(d.buffered == 0)
        }
        // One byte at a time.
        var d = RESP.Decoder()
        var got: [RESPValue] = []
        for b in Self.stream { d.feed([b]); while let v = try d.next() { got.append(v) } }
        #expect(got == Self.values)
    }

    @Test(arguments: [
        ("?what\r\n", "unknown reply type"), (":12x\r\n", "malformed integer"), (":99999999999999999999\r\n", "malformed integer"),
        ("$-5\r\n", "negative bulk"), ("$3\r\nabcd\r\n", "not ended by CRLF"), ("+OK\rX", "carriage return"),
        ("$100000000\r\n", "over the"), ("*-2\r\n", "negative array"), ("*2000000\r\n", "over the"),
        (":\r\n", "malformed integer"),
    ])
    func malformedRepliesAreErrorsNotCrashes(_ text: String, _ expected: String) {
        var d = RESP.Decoder()
        d.feed(Array(text.utf8))
        #expect(throws: RESPError.self) { while try d.next() != nil {} }
        do { while try d.next() != nil {} } catch { #expect(error.description.contains(expected), "\(error.description)") }
    }

    @Test func boundsHold() {
        var deep = RESP.Decoder(maxDepth: 3)
        deep.feed(Array("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n".utf8))
        #expect(throws: RESPError.self) { _ = try deep.next() }
        var long = RESP.Decoder()
        long.maxLineBytes = 16
        long.feed(Array(("+" + String(repeating: "x", count: 40)).utf8))
        #expect(throws: RESPError.self) { _ = try long.next() }
    }
}

@Suite struct RedisL2ConfigTests {
    @Test func readsRedisURLs() {
        let a = RedisL2Config.parse(url: "redis://127.0.0.1:6390/2").config
        #expect(a?.host == "127.0.0.1" && a?.port == 6390 && a?.database == 2 && a?.password == nil)
        let b = RedisL2Config.parse(url: "redis://:s3cret@cache.internal").config
        #expect(b?.host == "cache.internal" && b?.port == 6379 && b?.database == 0 && b?.password == "s3cret" && b?.username == nil)
        let c = RedisL2Config.parse(url: "redis://app:pw@[::1]:7000/").config
        #expect(c?.host == "::1" && c?.port == 7000 && c?.username == "app" && c?.password == "pw")
        #expect(RedisL2Config.parse(url: "http://x").problem?.contains("not a redis:// URL") == true)
        #expect(RedisL2Config.parse(url: "redis://h:0").problem?.contains("port") == true)
        #expect(RedisL2Config.parse(url: "redis://h/x").problem?.contains("database") == true)
        #expect(RedisL2Config.parse(url: "redis://").problem?.contains("no host") == true)
    }

    @Test func predictKeysAreTheSeedsOwn() {
        let c = RedisL2Config()
        // The seed service: f"ds_cache:{hashlib.md5(input.encode()).hexdigest()}"
        #expect(c.key(endpoint: "predict", model: "any", input: "abc", parameters: [:]) == "ds_cache:900150983cd24fb0d6963f7d28e17f72")
        // Other endpoints also depend on model and parameters.
        let chat = c.key(endpoint: "chat", model: "m", input: "abc", parameters: ["max_tokens": "8"])
        #expect(chat.hasPrefix("ds_cache:") && chat.count == "ds_cache:".count + 32)
        #expect(chat != c.key(endpoint: "chat", model: "m", input: "abc", parameters: ["max_tokens": "9"]))
        #expect(chat != c.key(endpoint: "chat", model: "n", input: "abc", parameters: ["max_tokens": "8"]))
    }
}
