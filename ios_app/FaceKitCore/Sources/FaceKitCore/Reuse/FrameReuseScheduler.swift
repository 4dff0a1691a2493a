import Foundation

/// What the scheduler did on one frame.
public struct FrameDecision: Sendable, Equatable {
    public let index: Int
    public let ranModel: Bool
    public let reason: ReuseReason
    /// Largest regional thumbnail change since the last full run (tracked faces left out).
    public let change: Float
    public let faces: [Face]
    public let trackIDs: [Int]
}

/// Runs the detector on a frame only when the policy says so (a port of exporter/reuse.py FrameReuseScheduler).
///
/// The decision is an ordered list of rules, each giving a reason to run the model or passing; a new reason is a
/// new rule in `rules`. When every rule passes, the frame reuses the last results (moved by the tracker).
public final class FrameReuseScheduler {
    public typealias Detect = (RGBImage) throws -> [Face]

    /// What the rules look at on one frame.
    struct FrameState {
        let thumb: Thumbnail
        let reference: Thumbnail
        let width: Int
        let height: Int
        let change: Float
        /// Shifts of the tracks found by the face-change rule, in image pixels, applied when the frame is reused.
        var shifts: [(dx: Float, dy: Float)] = []
    }

    typealias Rule = (FrameReuseScheduler, inout FrameState) -> ReuseReason?

    public let config: ReuseConfig
    public let sampling: Thumbnail.Sampling
    private let detect: Detect
    private var index = -1
    private var sinceFull = 0
    private var reference: Thumbnail?
    private var faces: [Face] = []
    private var tracker: FaceTracker

    public init(config: ReuseConfig, sampling: Thumbnail.Sampling, detect: @escaping Detect) throws {
        self.config = try config.validated()
        self.sampling = sampling
        self.detect = detect
        tracker = FaceTracker(matchIoU: config.matchIoU, smoothing: config.smoothing)
    }

    /// The rules of the configured policy, in the order they are asked.
    var rules: [Rule] {
        switch config.policy {
        case .everyFrame:
            return [{ _, _ in .everyFrame }]
        case .skipN:
            return [FrameReuseScheduler.maxReuse, FrameReuseScheduler.period]
        case .motionGated:
            return [FrameReuseScheduler.maxReuse, FrameReuseScheduler.sceneChange]
        case .motionGatedTracking:
            return [FrameReuseScheduler.maxReuse, FrameReuseScheduler.sceneChange, FrameReuseScheduler.faceChange]
        }
    }

    static func maxReuse(_ s: FrameReuseScheduler, _ state: inout FrameState) -> ReuseReason? {
        s.sinceFull >= s.config.maxReuse ? .maxReuse : nil
    }

    static func period(_ s: FrameReuseScheduler, _ state: inout FrameState) -> ReuseReason? {
        s.sinceFull + 1 >= s.config.skip ? .period : nil
    }

    static func sceneChange(_ s: FrameReuseScheduler, _ state: inout FrameState) -> ReuseReason? {
        Double(state.change) > s.config.regionThreshold ? .sceneChange : nil
    }

    static func faceChange(_ s: FrameReuseScheduler, _ state: inout FrameState) -> ReuseReason? {
        let cfg = s.config
        for track in s.tracker.tracks {
            let region = CellRegion(box: track.start.box, imageWidth: state.width, imageHeight: state.height, size: cfg.thumb)
            let shift = bestShift(previous: state.reference, current: state.thumb, region: region, search: cfg.search)
            if Double(shift.residual) > cfg.faceThreshold {
                return .faceChange
            }
            state.shifts.append((Float(Double(shift.dx * state.width) / Double(cfg.thumb)),
                                 Float(Double(shift.dy * state.height) / Double(cfg.thumb))))
        }
        return nil
    }

    /// Process the next frame: run the model or reuse, and say what was done and which faces to show.
    public func step(_ frame: RGBImage) throws -> FrameDecision {
        index += 1
        let thumb = Thumbnail(frame: frame, size: config.thumb, sampling: sampling)
        let tracking = config.policy.tracks
        var reason: ReuseReason? = .first
        var change: Float = 0
        if let reference {
            let ignore = tracking ? tracker.cells(imageWidth: frame.width, imageHeight: frame.height, size: config.thumb,
                                                  search: config.search) : nil
            change = regionChange(thumb, reference, blocks: config.blocks, ignore: ignore)
            var state = FrameState(thumb: thumb, reference: reference, width: frame.width, height: frame.height, change: change)
            reason = nil
            for rule in rules {
                if let found = rule(self, &state) {
                    reason = found
                    break
                }
            }
            if reason == nil, tracking {
                tracker.move(by: state.shifts)
                faces = tracker.tracks.map(\.smoothedFace)
            }
        }
        if reason != nil {
            let detected = try detect(frame)
            if tracking {
                tracker.update(with: detected)
                faces = tracker.tracks.map(\.smoothedFace)
            } else {
                faces = detected
            }
            self.reference = thumb
            sinceFull = 0
        } else {
            sinceFull += 1
        }
        return FrameDecision(index: index, ranModel: reason != nil, reason: reason ?? .reused, change: change, faces: faces,
                             trackIDs: tracking ? tracker.tracks.map(\.id) : [])
    }
}
