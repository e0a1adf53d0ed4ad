/// One model of a task's weighted model list (`model: [{name: a, weight: 3}, ...]`).
public struct WeightedModel: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public init(name: String, weight: Int) { self.name = name; self.weight = weight }
}

/// One multi-turn conversation: the user's turns, in order. The assistant's turns are never
/// taken from the dataset: each is the server's real answer to the turn before.
public struct Conversation: Sendable, Equatable {
    /// The user's messages, one per turn (at least one).
    public var userTurns: [String]
    public init(userTurns: [String]) { self.userTurns = userTurns }
}

/// A closed-model user's place in a conversation, and the history it sends back.
///
/// The history is kept as JSON text (the `messages` array's items so far), so a turn's body
/// costs one string join, not a re-encoding of every earlier turn.
public struct ConversationState: Sendable, Equatable {
    /// The conversation being played (index into the task's list).
    public var conversation: Int
    /// The next turn to send (0-based).
    public var turn: Int
    /// `{"role":"user",...},{"role":"assistant",...}` items of the turns answered so far.
    public private(set) var historyJSON: String = ""

    public init(conversation: Int) { self.conversation = conversation; self.turn = 0 }

    /// The `messages` array for the next turn: the history, then `userText` as a user message.
    public func messagesJSON(userText: String) -> String {
        var s = "["
        s.reserveCapacity(historyJSON.utf8.count + userText.utf8.count + 32)
        s += historyJSON
        if !historyJSON.isEmpty { s += "," }
        s += Self.message(role: "user", userText)
        s += "]"
        return s
    }

    /// Records a turn's exchange: the user's text and the server's real answer.
    public mutating func answered(userText: String, answer: String) {
        if !historyJSON.isEmpty { historyJSON += "," }
        historyJSON += Self.message(role: "user", userText) + "," + Self.message(role: "assistant", answer)
        turn += 1
    }

    static func message(role: String, _ text: String) -> String {
        "{\"role\":\"" + role + "\",\"content\":" + JSONText.quoted(text) + "}"
    }
}

/// An HTTP request sent outside the load (`before_run`, `before_each_point`): e.g. vLLM's
/// `POST /reset_prefix_cache`, so one run's cached prefixes do not flatter the next.
public struct HookSpec: Sendable, Equatable {
    public var method: String
    /// Path appended to the target (or a full http(s):// URL).
    public var path: String
    /// Request body, if any (sent as JSON).
    public var body: String?
    public init(method: String, path: String, body: String? = nil) { self.method = method; self.path = path; self.body = body }

    /// The URL the hook goes to for a base URL with no trailing slash.
    public func url(base: String) -> String { path.hasPrefix("http://") || path.hasPrefix("https://") ? path : base + path }
}

/// What a breakdown group collects: requests of one conversation turn, or of one model.
public enum BreakdownKey: Sendable, Equatable, Hashable {
    /// Turn number, from 1.
    case turn(Int)
    /// Model name.
    case model(String)
    /// A `split:` member's name (a canary roll-out's target).
    case target(String)
}

/// The run's breakdown groups (per turn, per model) and which group a request belongs to.
///
/// Computed once from the scenario; a request's group indexes are looked up on the send path
/// (two array reads), so scenarios without turns or model lists pay nothing.
public struct Breakdown: Sendable, Equatable {
    /// Every group, turns first (1...max turns), then models in first-seen order, then split members.
    public private(set) var keys: [BreakdownKey]
    /// Per task: the group of each of its weighted models.
    public let modelGroups: [[Int]]
    /// Group index of turn 1 (turn t is `firstTurnGroup + t - 1`), or -1 when no task has conversations.
    public let firstTurnGroup: Int
    public let maxTurns: Int
    /// Group index of the split's first member (member m is `firstSplitGroup + m`), or -1 without a split.
    public private(set) var firstSplitGroup = -1

    /// The groups of `tasks`, then one per member of `split` (when given).
    public init(tasks: [TaskSpec], split: SplitSpec?) {
        self.init(tasks: tasks)
        if let split, !split.members.isEmpty {
            firstSplitGroup = keys.count
            keys += split.members.map { .target($0.name) }
        }
    }

    public init(tasks: [TaskSpec]) {
        var keys: [BreakdownKey] = []
        maxTurns = tasks.flatMap { $0.conversations.map(\.userTurns.count) }.max() ?? 0
        firstTurnGroup = maxTurns > 0 ? 0 : -1
        for t in 0..<maxTurns { keys.append(.turn(t + 1)) }
        var groups: [[Int]] = []
        for task in tasks {
            groups.append(task.models.map { m in
                if let i = keys.firstIndex(of: .model(m.name)) { return i }
                keys.append(.model(m.name)); return keys.count - 1
            })
        }
        self.keys = keys
        modelGroups = groups
    }

    /// The group of turn `turn` (0-based), or -1.
    public func turnGroup(_ turn: Int) -> Int { firstTurnGroup < 0 || turn >= maxTurns ? -1 : firstTurnGroup + turn }
}
