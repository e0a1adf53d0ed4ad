import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit (`ulimit -n`) against the sockets a run needs.
///
/// Every HTTP/1.1 request in flight holds one socket, and a server running in the same
/// process (the embedded engine, the local test target) holds the other end. Past the limit
/// `socket()` fails with EMFILE, which libcurl reports as "Couldn't connect to server": the
/// client's own limit would read as a server refusing connections. So the executable raises
/// the soft limit to the hard one at start (as Go's runtime does), and a run that would still
/// not fit is refused before any load, naming the numbers.
public enum FileLimit {
    /// Descriptors kept aside for what is not a load connection: stdio, the terminal, report
    /// files, telemetry scrapes, libcurl's and the event loops' own.
    public static let headroom = 64

    /// The soft and hard limits now (nil where unlimited or unreadable).
    public static func current() -> (soft: Int?, hard: Int?) {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return (nil, nil) }
        func value(_ v: rlim_t) -> Int? { v > rlim_t(Int.max) ? nil : Int(v) }   // RLIM_INFINITY is all ones
        return (value(r.rlim_cur), value(r.rlim_max))
    }

    /// Raises the soft limit to the hard limit; returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseToHard() -> Int? {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return nil }
        if r.rlim_cur < r.rlim_max {
            var raised = r
            raised.rlim_cur = r.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
                // Some kernels cap at nr_open below an unlimited hard limit; try a high figure.
                raised.rlim_cur = min(r.rlim_max, 1 << 20)
                _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
            }
        }
        return current().soft
    }

    /// The most requests a load keeps in flight at once: the peak users of a closed load, the
    /// `max_in_flight` of an open one.
    public static func concurrency(of load: LoadProfile) -> Int {
        switch load {
        case .closed(let c): return c.peakUsers
        case .open(let o): return o.maxInFlight
        }
    }

    /// Descriptors a run needs: one per request in flight over HTTP/1.1, twice that when the
    /// server runs in this process, plus ``headroom``. Over HTTP/2 requests share connections,
    /// so only the headroom counts.
    public static func needed(concurrency: Int, http2: Bool, serverInProcess: Bool) -> Int {
        http2 ? headroom : concurrency * (serverInProcess ? 2 : 1) + headroom
    }

    /// Why a run that needs `needed` descriptors cannot run under `soft` (nil when it fits or
    /// the limit is unknown), in words a user can act on.
    public static func problem(needed: Int, concurrency: Int, serverInProcess: Bool, soft: Int?, hard: Int?) -> String? {
        guard let soft, needed > soft else { return nil }
        let why = serverInProcess
            ? "\(concurrency) requests in flight, each a connection with both ends in this process"
            : "\(concurrency) requests in flight, each a connection"
        let raise = hard.map { $0 >= needed ? "" : " (the hard limit is \($0): raise it as root, or in /etc/security/limits.conf)" } ?? ""
        return "error: this run needs about \(needed) open files (\(why), plus \(headroom) for Cicada itself) but this process may open only \(soft) (ulimit -n)\(raise); raise it, e.g. `ulimit -n \(needed)`, or lower users / max_in_flight"
    }
}
