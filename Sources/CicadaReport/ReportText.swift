import CicadaCore

/// Small text conversions shared by the writers: stop reasons, timestamps, one-line cells.
///
/// Kept in one place so the summary, the JSON and the Markdown name a stop reason the same way
/// and print the same start time.
enum ReportText {
    /// The machine name of a stop reason: `completed`, `interrupted`, `threshold_abort`.
    static func code(_ reason: StopReason) -> String {
        switch reason {
        case .completed: return "completed"
        case .interrupted: return "interrupted"
        case .thresholdAbort: return "threshold_abort"
        }
    }

    /// A stop reason for people: `completed`, `interrupted`, `aborted: threshold X failed`.
    static func human(_ reason: StopReason) -> String {
        switch reason {
        case .completed: return "completed"
        case .interrupted: return "interrupted"
        case .thresholdAbort(let e): return "aborted: threshold \(e) failed"
        }
    }

    /// The expression that aborted the run, if one did.
    static func abortThreshold(_ reason: StopReason) -> String? {
        if case .thresholdAbort(let e) = reason { return e }
        return nil
    }

    /// Seconds since 1970 as ISO 8601 UTC with milliseconds: `2023-11-14T22:13:20.000Z`.
    ///
    /// Computed by hand (proleptic Gregorian calendar) so the text is the same on every
    /// platform and needs no formatter or time zone database.
    static func iso8601(unix: Double) -> String {
        let totalMillis = Int64((unix * 1000).rounded(.down))
        var days = totalMillis / 86_400_000
        var msOfDay = totalMillis % 86_400_000
        if msOfDay < 0 { msOfDay += 86_400_000; days -= 1 }
        let (y, m, d) = CivilDate.ymd(daysSince1970: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60, ms = msOfDay % 1000
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(ms, 3))Z"
    }

    /// `s` on one line (control characters as spaces), cut to `limit` characters with `...`.
    static func oneLine(_ s: String, limit: Int) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F { out += " " } else { out.unicodeScalars.append(scalar) }
        }
        if out.count > limit { out = String(out.prefix(max(0, limit - 3))) + "..." }
        return out
    }
}
