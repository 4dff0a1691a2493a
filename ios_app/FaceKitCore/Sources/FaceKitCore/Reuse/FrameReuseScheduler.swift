import Foundation

/// What the scheduler did on one frame.
public struct FrameDecision: Sendable, Equatable {
    public let index: Int
    public let ranModel: Bool
    public let reason: ReuseReason
    /// Largest regional change since the last full run (tracked faces left out, camera compensated); 0 when the
    /// decision came before it was measured, the whole-picture change for a cut.
    public let change: Double
    /// Tracking: the camera's shift since the last full run, in samples.
    public let motion: GridShift
    public let faces: [Face]
    public let trackIDs: [Int]
    /// Tracking with a second look: the track ids looked at again on this frame.
    public let looked: [Int]
}

/// Runs the detector on a frame only when the policy says so (a port of exporter/reuse.py FrameReuseScheduler,
/// whose module docstring specifies the decision; its steps are named in the comments here). With tracking and a
/// second look, `look` refreshes the age and gender of small tracks after a full run.
public final class FrameReuseScheduler {
    public typealias Detect = (RGBImage) throws -> [Face]
    /// The face found on the square around a face of the frame (crop pixels), or nil when none.
    public typealias Look = (RGBImage, Face) throws -> Face?

    /// A policy's answer on one frame: why the model runs (nil: reuse), the change and the camera's shift.
    struct Outcome {
        var reason: ReuseReason?
        var change: Double = 0
        var motion: GridShift = .zero
    }

    /// The picture at the last full run, as motion-gated+tracking compares it.
    struct Reference {
        let table: SummedAreaTable
        let columns: [Int]
        let rows: [Int]
    }

    /// Step 2's answer: the cell difference to the reference, moved by the camera's shift when that explains the
    /// picture better, and which cells it compares.
    struct CameraMotion {
        var diff: CellGrid
        var total: Int
        var compared: [Bool]
        var count: Int
        var shift: GridShift
    }

    public let config: ReuseConfig
    public let sampling: Thumbnail.Sampling
    public let secondLook: SecondLook?
    private let detect: Detect
    private let look: Look?
    private let labels: CellLabels
    private var index = -1
    private var sinceFull = 0
    private var referenceCells: CellGrid?
    private var reference: Reference?
    private var faces: [Face] = []
    private var tracker: FaceTracker

    /// A scheduler; a second look needs `look` (frame, face -> the face found on the square around it, or nil).
    public init(config: ReuseConfig, sampling: Thumbnail.Sampling, secondLook: SecondLook? = nil, look: Look? = nil,
                detect: @escaping Detect) throws {
        if secondLook != nil, look == nil {
            throw SecondLookError.noLook
        }
        self.config = try config.validated()
        self.sampling = sampling
        self.secondLook = try secondLook?.validated()
        self.detect = detect
        self.look = look
        labels = CellLabels(size: config.thumb, blocks: config.blocks)
        tracker = FaceTracker(matchIoU: config.matchIoU, smoothing: config.smoothing, recheck: config.recheck)
    }

    /// Process the next frame: run the model or reuse, and say what was done and which faces to show.
    public func step(_ frame: RGBImage) throws -> FrameDecision {
        index += 1
        let tracking = config.policy.tracks
        var outcome = Outcome()
        var measured: (samples: LumaSamples, cells: CellGrid)?
        if !config.policy.measuresChange {  // counting only: nothing is computed on the picture
            outcome.reason = counted()
        } else {
            let samples = LumaSamples(frame: frame, cells: config.thumb, sampling: sampling)
            let cells = samples.cellSums(samples: sampling.samples)
            measured = (samples, cells)
            if referenceCells == nil {
                outcome.reason = .first
            } else if tracking {
                outcome = tracked(samples, cells, width: frame.width, height: frame.height)
            } else {
                outcome = gated(cells)
            }
        }
        var looked: [Int] = []
        if let reason = outcome.reason {
            let detected = try detect(frame)
            if tracking, let measured {
                tracker.update(with: detected, cut: reason == .cut)
                looked = try lookAgain(frame)
                faces = tracker.shownFaces
                let profiles = measured.samples.profiles
                reference = Reference(table: SummedAreaTable(measured.samples), columns: profiles.columns, rows: profiles.rows)
            } else {
                faces = detected
            }
            referenceCells = measured?.cells
            sinceFull = 0
        } else {
            sinceFull += 1
        }
        return FrameDecision(index: index, ranModel: outcome.reason != nil, reason: outcome.reason ?? .reused,
                             change: outcome.change, motion: outcome.motion, faces: faces,
                             trackIDs: tracking ? tracker.shownIDs : [], looked: looked)
    }

    /// Second looks at the small shown tracks that are new or due (exporter/reuse.py `_look_again`); their ids.
    private func lookAgain(_ frame: RGBImage) throws -> [Int] {
        guard let secondLook, let look else { return [] }
        let due = tracker.dueForSecondLook(secondLook, frame: index, imageWidth: frame.width, imageHeight: frame.height)
        for track in due {
            let seen = try look(frame, tracker.tracks[track].face)
            tracker.recordLook(at: track, frame: index, seen: seen)
        }
        return due.map { tracker.tracks[$0].id }
    }

    // MARK: - every-frame, skip-N and motion-gated

    /// every-frame and skip-N: the frame count alone decides.
    private func counted() -> ReuseReason? {
        if index == 0 { return .first }
        if config.policy == .everyFrame { return .everyFrame }
        if sinceFull >= config.maxReuse { return .maxReuse }
        return sinceFull + 1 >= config.skip ? .period : nil
    }

    /// motion-gated: run when a region changed (no camera compensation, no tracks).
    private func gated(_ cells: CellGrid) -> Outcome {
        guard let referenceCells else { return Outcome(reason: .first) }
        let diff = cells.absoluteDifference(referenceCells)
        let region = CellLabels.largestMean(diff, keep: [Bool](repeating: true, count: diff.values.count),
                                            labels: labels.regions, count: labels.regionCount)
        let change = region.change(scale: sampling.divisor)
        if sinceFull >= config.maxReuse {
            return Outcome(reason: .maxReuse, change: change)
        }
        return Outcome(reason: region.exceeds(config.regionThreshold, scale: sampling.divisor) ? .sceneChange : nil,
                       change: change)
    }

    // MARK: - motion-gated+tracking: steps 1-9

    /// motion-gated+tracking: steps 1-8 of exporter/reuse.py's docstring, in order; on reuse (step 9) the tracks move.
    private func tracked(_ samples: LumaSamples, _ cells: CellGrid, width: Int, height: Int) -> Outcome {
        guard let referenceCells, let reference else { return Outcome(reason: .first) }
        let scale = sampling.divisor
        // 1. max-reuse
        if sinceFull >= config.maxReuse {
            return Outcome(reason: .maxReuse)
        }
        // 2. camera motion
        let camera = cameraMotion(samples, cells, referenceCells: referenceCells, reference: reference)
        // 3. cut
        if isCut(camera) {
            return Outcome(reason: .cut, change: ChangeSum(sum: camera.total, cells: max(camera.count, 1)).change(scale: scale),
                           motion: camera.shift)
        }
        let cellShift = camera.shift.inCells(samples: sampling.samples)
        let faceCells = tracker.cells(imageWidth: width, imageHeight: height, size: config.thumb, search: config.search,
                                      camera: cellShift)
        let keep = zip(camera.compared, faceCells).map { $0 && !$1 }
        let (region, border) = labels.largestChanges(camera.diff, keep: keep)
        // 4. edge
        if isEdge(camera.shift, border: border) {
            return Outcome(reason: .edge, motion: camera.shift)
        }
        func decided(_ reason: ReuseReason?) -> Outcome {
            Outcome(reason: reason, change: region.change(scale: scale), motion: camera.shift)
        }
        // 5. scene-change
        if isSceneChange(region) {
            return decided(.sceneChange)
        }
        // 6. recheck
        if tracker.anyMissed {
            return decided(.recheck)
        }
        // 7. low-confidence
        if isLowConfidence() {
            return decided(.lowConfidence)
        }
        // 8. face-change
        guard let moves = faceMoves(referenceCells, cells, centre: cellShift, width: width, height: height) else {
            return decided(.faceChange)
        }
        // 9. reuse: each track moves by its best shift
        tracker.move(by: moves)
        faces = tracker.shownFaces
        return decided(nil)
    }

    /// Step 2: the cell difference to the reference as it is (a still camera) when the whole picture changed at most
    /// `stillThreshold`; else the reference moved by the best shift of the column and row sums, kept only when its
    /// mean difference over the compared cells is lower than the unmoved one's over all cells.
    private func cameraMotion(_ samples: LumaSamples, _ cells: CellGrid, referenceCells: CellGrid,
                              reference: Reference) -> CameraMotion {
        let diff = cells.absoluteDifference(referenceCells)
        let all = diff.values.count
        let still = CameraMotion(diff: diff, total: diff.total, compared: [Bool](repeating: true, count: all), count: all,
                                 shift: .zero)
        guard ChangeSum(sum: still.total, cells: all).exceeds(config.stillThreshold, scale: sampling.divisor) else {
            return still
        }
        let profiles = samples.profiles
        let shift = GridShift(dx: globalShift(profile: profiles.columns, reference: reference.columns, search: config.motionSearch),
                              dy: globalShift(profile: profiles.rows, reference: reference.rows, search: config.motionSearch))
        let (expected, compared) = reference.table.shiftedCells(by: shift, samples: sampling.samples)
        var moved = cells.absoluteDifference(expected)
        for cell in moved.values.indices where !compared[cell] {
            moved.values[cell] = 0
        }
        let count = compared.filter { $0 }.count
        let total = moved.total
        if total * all < still.total * count {  // the shift explains the picture better than a still camera
            return CameraMotion(diff: moved, total: total, compared: compared, count: count, shift: shift)
        }
        return still
    }

    /// Step 3: the compared cells changed by more than `cutThreshold`, or fewer than half the cells are compared.
    private func isCut(_ camera: CameraMotion) -> Bool {
        2 * camera.count < camera.compared.count
            || ChangeSum(sum: camera.total, cells: camera.count).exceeds(config.cutThreshold, scale: sampling.divisor)
    }

    /// Step 4: the camera brought `edgeShift` samples of new content into view, or a border segment changed by more
    /// than `edgeThreshold` outside the tracked faces.
    private func isEdge(_ shift: GridShift, border: ChangeSum) -> Bool {
        max(abs(shift.dx), abs(shift.dy)) >= config.edgeShift || border.exceeds(config.edgeThreshold, scale: sampling.divisor)
    }

    /// Step 5: a region changed by more than `regionThreshold` outside the tracked faces (`emptyThreshold` when
    /// no face is tracked: any change may be a face appearing).
    private func isSceneChange(_ region: ChangeSum) -> Bool {
        region.exceeds(tracker.tracks.isEmpty ? config.emptyThreshold : config.regionThreshold, scale: sampling.divisor)
    }

    /// Step 7: a track's confidence, less `confidenceDecay` for each frame since the last full run (this one
    /// included), is below `minConfidence`.
    private func isLowConfidence() -> Bool {
        let age = sinceFull + 1
        return tracker.tracks.contains { $0.confidence - config.confidenceDecay * age < config.minConfidence }
    }

    /// Step 8: each track's best cell shift around the camera's, in image pixels (cells times the frame side / thumb,
    /// in double, as float32); nil when a face changed by more than `faceThreshold` or left the grid.
    private func faceMoves(_ referenceCells: CellGrid, _ cells: CellGrid, centre: GridShift, width: Int,
                           height: Int) -> [(dx: Float, dy: Float)]? {
        var moves: [(dx: Float, dy: Float)] = []
        for track in tracker.tracks {
            let region = CellRegion(box: track.start.box, imageWidth: width, imageHeight: height, size: config.thumb)
            guard let best = bestShift(previous: referenceCells, current: cells, region: region, search: config.search,
                                       centre: centre),
                  !ChangeSum(sum: best.sum, cells: region.area).exceeds(config.faceThreshold, scale: sampling.divisor) else {
                return nil
            }
            moves.append((Float(Double(best.shift.dx * width) / Double(config.thumb)),
                          Float(Double(best.shift.dy * height) / Double(config.thumb))))
        }
        return moves
    }
}
