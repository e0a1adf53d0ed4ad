import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// Where the fast transport sends: a plain `http://host[:port][/prefix]` base URL, split once
/// and resolved once (per target change), so no request pays for URL parsing or DNS.
struct FastTarget {
    /// The `Host` header's value, as in the URL (`127.0.0.1:8000`).
    var hostHeader: String
    var host: String
    var port: UInt16
    /// The base URL's path (no trailing slash), put before every task's path.
    var pathPrefix: String
    /// The resolved address (the first that getaddrinfo gave).
    var address = sockaddr_storage()
    var addressLength: socklen_t = 0
    var family: Int32 = AF_INET

    /// Splits `base`; nil when it is not a plain `http://` URL (https, another scheme, userinfo).
    static func parse(_ base: String) -> FastTarget? {
        guard base.lowercased().hasPrefix("http://") else { return nil }
        let rest = base.dropFirst(7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        var prefix = String(rest[slash...])
        while prefix.hasSuffix("/") { prefix.removeLast() }
        guard !authority.isEmpty, !authority.contains("@"), !prefix.contains("?"), !prefix.contains("#") else { return nil }
        var host = authority
        var port: UInt16 = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = UInt16(after.dropFirst()) else { return nil }; port = p } else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty else { return nil }
        return FastTarget(hostHeader: authority, host: host, port: port, pathPrefix: prefix)
    }

    /// Resolves the host (blocking getaddrinfo, once per target); the error in words if it fails.
    mutating func resolve() -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else { return "Could not resolve host: \(host) (\(String(cString: gai_strerror(rc))))" }
        defer { freeaddrinfo(res) }
        family = first.pointee.ai_family
        addressLength = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &address) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return nil
    }
}
