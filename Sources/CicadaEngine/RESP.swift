/// A Redis reply in RESP2, the protocol the engine's level-2 cache speaks to Redis.
public enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; nil is Redis's null (`$-1`), e.g. GET of a missing key.
    case bulk([UInt8]?)
    /// An array; nil is the null array (`*-1`).
    case array([RESPValue]?)
}

/// Why a reply stream cannot be read: the connection is then out of step and must be closed.
public struct RESPError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// RESP2 framing: commands out as arrays of bulk strings, replies in, decoded incrementally from
/// whatever bytes the network hands over (any split), with bounds so a bad or hostile peer cannot
/// make the engine buffer without limit. Pure; fuzzed (fuzz/FuzzRESP).
public enum RESP {
    /// A command as Redis expects it: `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument.
    public static func command(_ args: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [13, 10]
        }
        return out
    }

    /// ``command(_:)`` of UTF-8 strings.
    public static func command(_ args: String...) -> [UInt8] { command(args.map { Array($0.utf8) }) }

    /// An incremental reply decoder.
    public struct Decoder: Sendable {
        /// Largest bulk string accepted (Redis's own default is 512 MB; cached answers are far smaller).
        public var maxBulkBytes: Int
        /// Most elements in one array, and deepest nesting.
        public var maxArrayCount: Int
        public var maxDepth: Int
        /// Longest line (type byte to CRLF) before the stream is called broken.
        public var maxLineBytes = 64 * 1024

        var buffer: [UInt8] = []
        var start = 0

        public init(maxBulkBytes: Int = 64 << 20, maxArrayCount: Int = 1 << 20, maxDepth: Int = 16) {
            self.maxBulkBytes = maxBulkBytes; self.maxArrayCount = maxArrayCount; self.maxDepth = maxDepth
        }

        /// Bytes received and not yet decoded.
        public var buffered: Int { buffer.count - start }

        /// Adds received bytes.
        public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            if start > 0, start >= buffer.count / 2 {
                buffer.removeFirst(start)
                start = 0
            }
            buffer.append(contentsOf: bytes)
        }

        /// The next whole reply, nil when more bytes are needed.
        public mutating func next() throws(RESPError) -> RESPValue? {
            var i = start
            guard let v = try parse(&i, depth: 0) else { return nil }
            start = i
            return v
        }

        /// Reads a CRLF-terminated line from `i` (after the type byte); nil when incomplete.
        func line(_ i: inout Int) throws(RESPError) -> ArraySlice<UInt8>? {
            var j = i
            while j + 1 < buffer.count {
                if buffer[j] == 13 {
                    guard buffer[j + 1] == 10 else { throw RESPError("a carriage return without a line feed") }
                    let l = buffer[i..<j]
                    i = j + 2
                    return l
                }
                j += 1
                if j - i > maxLineBytes { throw RESPError("a line longer than \(maxLineBytes) bytes") }
            }
            if buffer.count - i > maxLineBytes { throw RESPError("a line longer than \(maxLineBytes) bytes") }
            return nil
        }

        func integer(_ l: ArraySlice<UInt8>) throws(RESPError) -> Int64 {
            var negative = false
            var digits = l[...]
            if digits.first == UInt8(ascii: "-") { negative = true; digits = digits.dropFirst() }
            else if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.count <= 19 else { throw RESPError("a malformed integer") }
            var v: Int64 = 0
            for d in digits {
                guard d >= 48, d <= 57 else { throw RESPError("a malformed integer") }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(d - 48))
                if o1 || o2 { throw RESPError("an integer out of range") }
                v = s
            }
            return negative ? -v : v
        }

        func parse(_ i: inout Int, depth: Int) throws(RESPError) -> RESPValue? {
            guard depth <= maxDepth else { throw RESPError("replies nested deeper than \(maxDepth)") }
            guard i < buffer.count else { return nil }
            let type = buffer[i]
            var j = i + 1
            guard let l = try line(&j) else { return nil }
            switch type {
            case UInt8(ascii: "+"):
                i = j; return .simple(String(decoding: l, as: UTF8.self))
            case UInt8(ascii: "-"):
                i = j; return .error(String(decoding: l, as: UTF8.self))
            case UInt8(ascii: ":"):
                let v = try integer(l)
                i = j; return .integer(v)
            case UInt8(ascii: "$"):
                let n = try integer(l)
                if n == -1 { i = j; return .bulk(nil) }
                guard n >= 0 else { throw RESPError("a negative bulk length") }
                guard n <= maxBulkBytes else { throw RESPError("a bulk string of \(n) bytes, over the \(maxBulkBytes)-byte limit") }
                let end = j + Int(n)
                guard end + 2 <= buffer.count else { return nil }
                guard buffer[end] == 13, buffer[end + 1] == 10 else { throw RESPError("a bulk string not ended by CRLF") }
                let bytes = Array(buffer[j..<end])
                i = end + 2
                return .bulk(bytes)
            case UInt8(ascii: "*"):
                let n = try integer(l)
                if n == -1 { i = j; return .array(nil) }
                guard n >= 0 else { throw RESPError("a negative array length") }
                guard n <= maxArrayCount else { throw RESPError("an array of \(n) elements, over the \(maxArrayCount) limit") }
                var items: [RESPValue] = []
                var k = j
                for _ in 0..<n {
                    guard let v = try parse(&k, depth: depth + 1) else { return nil }
                    items.append(v)
                }
                i = k
                return .array(items)
            default:
                throw RESPError("an unknown reply type byte 0x\(String(type, radix: 16))")
            }
        }
    }
}

/// Where the engine's level-2 cache lives and how it uses it: `cache: {l2: {redis: URL, ttl,
/// prefix, timeout}}`.
public struct RedisL2Config: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var database: Int
    public var password: String?
    public var username: String?
    /// How long an entry lives in Redis (`SETEX` seconds).
    public var ttl: Duration
    /// The key prefix; the seed's is `ds_cache:`.
    public var prefix: String
    /// How long a lookup may take before it counts as a miss (with a counted error).
    public var timeout: Duration

    public init(host: String = "127.0.0.1", port: Int = 6379, database: Int = 0, password: String? = nil, username: String? = nil,
                ttl: Duration = .seconds(3600), prefix: String = "ds_cache:", timeout: Duration = .milliseconds(50)) {
        self.host = host; self.port = port; self.database = database; self.password = password; self.username = username
        self.ttl = ttl; self.prefix = prefix; self.timeout = timeout
    }

    /// Reads `redis://[[user]:password@]host[:port][/db]`; nil with the reason when it is not one.
    public static func parse(url: String) -> (config: RedisL2Config?, problem: String?) {
        guard url.hasPrefix("redis://") else { return (nil, "'\(url)' is not a redis:// URL (e.g. redis://127.0.0.1:6379/0)") }
        var rest = Substring(url.dropFirst("redis://".count))
        var c = RedisL2Config()
        if let at = rest.lastIndex(of: "@") {
            let auth = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = auth.firstIndex(of: ":") {
                let user = auth[..<colon]
                c.username = user.isEmpty ? nil : String(user)
                c.password = String(auth[auth.index(after: colon)...])
            } else if !auth.isEmpty {
                c.password = String(auth)
            }
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { return (nil, "'\(url)': the database '\(db)' is not a number") }
                c.database = n
            }
        }
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                return (nil, "'\(url)': the port is not a number in 1...65535")
            }
            c.port = p
            hostPort = hostPort[..<colon]
        }
        if hostPort.hasPrefix("["), hostPort.hasSuffix("]") { hostPort = hostPort.dropFirst().dropLast() }
        guard !hostPort.isEmpty else { return (nil, "'\(url)' names no host") }
        c.host = String(hostPort)
        return (c, nil)
    }

    /// The Redis key of a cached answer. `/predict` keys are the seed service's exactly:
    /// `prefix + md5(input)`; the other endpoints' answers also depend on the model and the
    /// generation parameters, so their key is `prefix + md5(` the result cache's canonical bytes `)`.
    public func key(endpoint: String, model: String, input: String, parameters: [String: String]) -> String {
        if endpoint == "predict" { return prefix + MD5.hex(input) }
        return prefix + MD5.hex(bytes: CacheKey.canonicalBytes(endpoint: endpoint, model: model, input: input, parameters: parameters))
    }
}
