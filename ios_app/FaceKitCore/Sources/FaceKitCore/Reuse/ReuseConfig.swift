import Foundation

/// When a policy runs the full model (exporter/reuse.py POLICIES).
public enum ReusePolicy: String, CaseIterable, Codable, Sendable {
    case everyFrame = "every-frame"
    case skipN = "skip-N"
    case motionGated = "motion-gated"
    case motionGatedTracking = "motion-gated+tracking"

    /// Whether faces are followed between full runs.
    public var tracks: Bool { self == .motionGatedTracking }
}

/// Why the scheduler ran the model on a frame, or `reused` when it did not (the traces spell it "static").
public enum ReuseReason: String, Codable, Sendable {
    case first
    case everyFrame = "every-frame"
    case period
    case maxReuse = "max-reuse"
    case sceneChange = "scene-change"
    case faceChange = "face-change"
    case reused = "static"
}

/// Settings of a policy, as exporter/reuse.py ReuseConfig holds them (read from reuse_traces.json, not repeated).
public struct ReuseConfig: Codable, Sendable, Equatable {
    public var policy: ReusePolicy
    public var skip: Int
    public var thumb: Int
    public var blocks: Int
    public var regionThreshold: Double
    public var faceThreshold: Double
    public var search: Int
    public var maxReuse: Int
    public var matchIoU: Float
    public var smoothing: Double

    enum CodingKeys: String, CodingKey {
        case policy, skip, thumb, blocks
        case regionThreshold = "region_threshold"
        case faceThreshold = "face_threshold"
        case search
        case maxReuse = "max_reuse"
        case matchIoU = "match_iou"
        case smoothing
    }

    /// The settings the app can be given; the error says which one is out of range.
    public func validated() throws -> ReuseConfig {
        if skip < 1 || maxReuse < 0 || search < 0 || blocks < 1 || thumb % blocks != 0 {
            throw ReuseConfigError.outOfRange("skip >= 1, max_reuse >= 0, search >= 0 and a thumb side divisible by blocks are required")
        }
        return self
    }
}

/// Settings that the scheduler cannot run with.
public enum ReuseConfigError: Error, LocalizedError, Equatable {
    case outOfRange(String)

    public var errorDescription: String? {
        switch self {
        case let .outOfRange(what): return "Invalid frame-reuse settings: \(what)."
        }
    }
}
