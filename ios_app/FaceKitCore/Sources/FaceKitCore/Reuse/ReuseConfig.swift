import Foundation

/// When a policy runs the full model (exporter/reuse.py POLICIES).
public enum ReusePolicy: String, CaseIterable, Codable, Sendable {
    case everyFrame = "every-frame"
    case skipN = "skip-N"
    case motionGated = "motion-gated"
    case motionGatedTracking = "motion-gated+tracking"

    /// Whether faces are followed between full runs.
    public var tracks: Bool { self == .motionGatedTracking }

    /// Whether the policy looks at the picture (every-frame and skip-N only count frames).
    public var measuresChange: Bool { self == .motionGated || self == .motionGatedTracking }
}

/// Why the scheduler ran the model on a frame, or `reused` when it did not (exporter/reuse.py REASONS, in order;
/// the traces spell `reused` "static").
public enum ReuseReason: String, CaseIterable, Codable, Sendable {
    case first
    case everyFrame = "every-frame"
    case period
    case maxReuse = "max-reuse"
    case cut
    case edge
    case sceneChange = "scene-change"
    case recheck
    case lowConfidence = "low-confidence"
    case faceChange = "face-change"
    case reused = "static"
}

/// Settings of a policy, as exporter/reuse.py ReuseConfig holds them (read from reuse_traces.json, not repeated).
public struct ReuseConfig: Codable, Sendable, Equatable {
    /// Depth of the border ring, in cells (exporter/reuse.py EDGE_RING).
    public static let edgeRing = 2
    /// Length of a border segment, in cells (exporter/reuse.py EDGE_SEGMENT).
    public static let edgeSegment = 4

    public var policy: ReusePolicy
    /// skip-N: run on frames 0, N, 2N, ...
    public var skip: Int
    /// Thumbnail side, in cells.
    public var thumb: Int
    /// The change is measured in blocks x blocks regions of the thumbnail.
    public var blocks: Int
    /// Largest mean |change| of a region since the last full run, luma in [0, 1].
    public var regionThreshold: Double
    /// The same when no face is tracked.
    public var emptyThreshold: Double
    /// Mean |change| of a face's cells after its best shift.
    public var faceThreshold: Double
    /// Mean |change| of the whole (camera-compensated) picture: a cut.
    public var cutThreshold: Double
    /// Mean |change| of a border segment: something entering.
    public var edgeThreshold: Double
    /// New content (in samples) the camera may bring into view.
    public var edgeShift: Int
    /// Camera: below this mean |change| of the whole picture it is taken as still.
    public var stillThreshold: Double
    /// Camera: largest shift tried, in samples.
    public var motionSearch: Int
    /// Tracking: largest face shift tried around the camera's, in thumbnail cells.
    public var search: Int
    /// A result is reused on at most this many frames in a row.
    public var maxReuse: Int
    /// Thousandths: a reused face's decayed confidence must stay at least this.
    public var minConfidence: Int
    /// Thousandths per reused frame.
    public var confidenceDecay: Int
    /// Tracking: a face the model lost is looked for on this many following frames.
    public var recheck: Int
    /// Tracking: a detection continues a track above this IoU.
    public var matchIoU: Float
    /// Tracking: weight of a new age/gender observation.
    public var smoothing: Double

    enum CodingKeys: String, CodingKey {
        case policy, skip, thumb, blocks
        case regionThreshold = "region_threshold"
        case emptyThreshold = "empty_threshold"
        case faceThreshold = "face_threshold"
        case cutThreshold = "cut_threshold"
        case edgeThreshold = "edge_threshold"
        case edgeShift = "edge_shift"
        case stillThreshold = "still_threshold"
        case motionSearch = "motion_search"
        case search
        case maxReuse = "max_reuse"
        case minConfidence = "min_confidence"
        case confidenceDecay = "confidence_decay"
        case recheck
        case matchIoU = "match_iou"
        case smoothing
    }

    /// The settings the app can be given; the error says which one is out of range (exporter/reuse.py __post_init__).
    public func validated() throws -> ReuseConfig {
        if skip < 1 || maxReuse < 0 || search < 0 || motionSearch < 0 || blocks < 1 || thumb % blocks != 0
            || thumb < 2 * Self.edgeRing || thumb % Self.edgeSegment != 0 {
            throw ReuseConfigError.outOfRange("skip >= 1, max_reuse, search and motion_search >= 0, and a thumb side "
                                              + "divisible by blocks and by \(Self.edgeSegment) are required")
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
