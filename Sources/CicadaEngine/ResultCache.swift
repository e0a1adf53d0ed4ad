import CicadaCore

/// An LRU cache of inference results with a time-to-live, bounded by entry count and by bytes.
///
/// A hit lets the engine answer without the batcher or the device, so a repeated prompt costs
/// neither queue time nor modelled GPU time; hits, misses, evictions and expirations are counted
/// so the dashboard can show how much work the cache saved (Triton exposes the same as
/// `nv_cache_num_hits_per_model` / `_misses_`).
///
/// Time is passed in as `nowNanos` (from a ``CicadaCore/TimeSource``) so tests drive expiry in
/// virtual time. An entry lives `ttl` from the moment it was stored; a hit does not extend it,
/// so a popular but stale answer still ages out. Expired entries are removed lazily, when a
/// lookup finds them or when they reach the least-recently-used end during eviction, and
/// ``removeExpired(nowNanos:)`` sweeps them all.
///
/// A struct (value semantics, `Sendable` when `Value` is) rather than a class: the engine keeps
/// it inside its own isolation domain (an actor or a mutex), and a value type needs no locking
/// of its own. Storage is a dictionary from key to slot index plus an array of slots linked into
/// a doubly linked recency list by index, with freed slots reused, so `get` and `put` are O(1)
/// and allocate nothing per operation once the arrays have grown (beyond the value itself).
public struct ResultCache<Value: Sendable>: Sendable {
    /// One stored entry, linked into the recency list by slot index.
    private struct Slot: Sendable {
        var key: CacheKey
        var value: Value?
        var bytes: Int
        var storedAtNanos: UInt64
        var previous: Int  // towards the most recently used end; `none` at the head
        var next: Int  // towards the least recently used end; `none` at the tail
    }

    private static var none: Int { -1 }

    /// The most entries held at once.
    public let maxEntries: Int
    /// The most bytes (as reported to ``put(_:_:bytes:nowNanos:)``) held at once.
    public let maxBytes: Int
    /// How long an entry stays valid after it is stored.
    public let ttl: Duration

    private let ttlNanos: UInt64
    private var index: [CacheKey: Int] = [:]
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var head: Int = -1  // most recently used
    private var tail: Int = -1  // least recently used

    /// Lookups that returned a value.
    public private(set) var hits: Int = 0
    /// Lookups that returned nothing, including those that found only an expired entry.
    public private(set) var misses: Int = 0
    /// Live entries removed to make room (entry or byte bound), least recently used first.
    public private(set) var evictions: Int = 0
    /// Entries removed because their time-to-live had run out.
    public private(set) var expirations: Int = 0
    /// Total bytes of the entries held.
    public private(set) var bytes: Int = 0

    /// Entries held now (some may have expired but not yet been removed).
    public var count: Int { index.count }

    /// Creates an empty cache.
    ///
    /// The default TTL is the seed service's 3600 s. `maxEntries` or `maxBytes` of zero make a
    /// cache that stores nothing (every lookup misses), which is how a disabled cache behaves.
    public init(maxEntries: Int, maxBytes: Int, ttl: Duration = .seconds(3600)) {
        precondition(maxEntries >= 0, "maxEntries must not be negative")
        precondition(maxBytes >= 0, "maxBytes must not be negative")
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.ttl = ttl
        self.ttlNanos = ttl.nanos
        // Reserve up front (capped, since maxEntries may be a huge "unbounded") so steady-state
        // puts do not rehash.
        let reserve = min(maxEntries, 65_536)
        index.reserveCapacity(reserve)
        slots.reserveCapacity(reserve)
        freeSlots.reserveCapacity(reserve)
    }

    /// Returns the value stored under `key` if it is still valid, and marks it most recently used.
    ///
    /// An entry whose TTL has run out is removed, counted as an expiration, and reported as a miss.
    public mutating func get(_ key: CacheKey, nowNanos: UInt64) -> Value? {
        guard let slot = index[key] else {
            misses += 1
            return nil
        }
        if isExpired(slot, nowNanos: nowNanos) {
            remove(slot: slot)
            expirations += 1
            misses += 1
            return nil
        }
        moveToHead(slot)
        hits += 1
        return slots[slot].value
    }

    /// Stores `value` under `key`, replacing any earlier value, then evicts least recently used
    /// entries until both bounds hold.
    ///
    /// `bytes` is the caller's measure of the value's size (e.g. the response body length).
    /// A value larger than `maxBytes` on its own is not stored (and any older value under the
    /// same key is dropped, since it is superseded): caching it would evict everything else.
    /// While evicting, an entry that has already expired is counted as an expiration, not an
    /// eviction, so ``evictions`` measures only live answers lost to the bounds.
    public mutating func put(_ key: CacheKey, _ value: Value, bytes: Int, nowNanos: UInt64) {
        precondition(bytes >= 0, "bytes must not be negative")
        if let existing = index[key] {
            if bytes > maxBytes || maxEntries == 0 {
                remove(slot: existing)
                return
            }
            self.bytes += bytes - slots[existing].bytes
            slots[existing].value = value
            slots[existing].bytes = bytes
            slots[existing].storedAtNanos = nowNanos
            moveToHead(existing)
        } else {
            if bytes > maxBytes || maxEntries == 0 { return }
            let slot = allocateSlot(key: key, value: value, bytes: bytes, nowNanos: nowNanos)
            index[key] = slot
            self.bytes += bytes
            linkAtHead(slot)
        }
        while index.count > maxEntries || self.bytes > maxBytes {
            let victim = tail
            if isExpired(victim, nowNanos: nowNanos) {
                expirations += 1
            } else {
                evictions += 1
            }
            remove(slot: victim)
        }
    }

    /// Removes every expired entry (O(n)), counting each as an expiration, and returns how many.
    ///
    /// Lookups already drop expired entries lazily; a sweep is for when the memory they hold
    /// should be released, or before reporting ``count`` and ``bytes``.
    @discardableResult
    public mutating func removeExpired(nowNanos: UInt64) -> Int {
        var removed = 0
        var slot = tail
        while slot != Self.none {
            let previous = slots[slot].previous
            if isExpired(slot, nowNanos: nowNanos) {
                remove(slot: slot)
                removed += 1
            }
            slot = previous
        }
        expirations += removed
        return removed
    }

    /// Removes every entry; the counters keep their values, since they describe the whole run.
    public mutating func removeAll() {
        index.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        freeSlots.removeAll(keepingCapacity: true)
        head = Self.none
        tail = Self.none
        bytes = 0
    }

    /// The keys from most to least recently used (O(n)); for tests and diagnostics.
    public var keysByRecency: [CacheKey] {
        var out: [CacheKey] = []
        out.reserveCapacity(index.count)
        var slot = head
        while slot != Self.none {
            out.append(slots[slot].key)
            slot = slots[slot].next
        }
        return out
    }

    // MARK: - Slots and the recency list

    private func isExpired(_ slot: Int, nowNanos: UInt64) -> Bool {
        let stored = slots[slot].storedAtNanos
        // A clock reading before the store time (a caller mixing clocks) counts as age zero.
        let age = nowNanos >= stored ? nowNanos - stored : 0
        return age >= ttlNanos
    }

    private mutating func allocateSlot(
        key: CacheKey, value: Value, bytes: Int, nowNanos: UInt64
    ) -> Int {
        let fresh = Slot(
            key: key, value: value, bytes: bytes, storedAtNanos: nowNanos,
            previous: Self.none, next: Self.none)
        if let reused = freeSlots.popLast() {
            slots[reused] = fresh
            return reused
        }
        slots.append(fresh)
        return slots.count - 1
    }

    private mutating func remove(slot: Int) {
        unlink(slot)
        index[slots[slot].key] = nil
        bytes -= slots[slot].bytes
        slots[slot].value = nil  // release the value now, not when the slot is reused
        slots[slot].bytes = 0
        freeSlots.append(slot)
    }

    private mutating func linkAtHead(_ slot: Int) {
        slots[slot].previous = Self.none
        slots[slot].next = head
        if head != Self.none { slots[head].previous = slot }
        head = slot
        if tail == Self.none { tail = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let previous = slots[slot].previous
        let next = slots[slot].next
        if previous != Self.none { slots[previous].next = next } else { head = next }
        if next != Self.none { slots[next].previous = previous } else { tail = previous }
        slots[slot].previous = Self.none
        slots[slot].next = Self.none
    }

    private mutating func moveToHead(_ slot: Int) {
        guard slot != head else { return }
        unlink(slot)
        linkAtHead(slot)
    }
}
