import Foundation

/// A face followed across frames (exporter/reuse.py Track).
public struct Track: Sendable, Equatable {
    public let id: Int
    /// Box and keypoints in image pixels at the current frame.
    public var face: Face
    public var age: Double
    public var female: Double
    /// The face as the model saw it at the last full run.
    public var start: Face
    /// floor(1000 * score) at the last full run.
    public var confidence: Int
    /// Full runs in a row that did not find the face (then it is hidden, kept to be re-checked).
    public var missed = 0
    /// Frame index of its last second look.
    public var lookedAt: Int?
    /// Age and P(female) come from a second look (later full runs do not smooth them).
    public var looked = false

    /// The face as reported: current box, smoothed age and P(female).
    public var smoothedFace: Face {
        var shown = face
        shown.age = Float(age)
        shown.female = Float(female)
        return shown
    }

    /// floor(1000 * score), the score read as the reference reads it: the shortest decimal that gives the same
    /// Float (what the traces store, and Python parses to a double), so that 0.52 is 520 and not 519.
    public static func confidence(of score: Float) -> Int {
        Int((1000 * (Double(score.description) ?? Double(score))).rounded(.down))
    }
}

/// Matches detections to tracks by IoU (greedy, best score first) and smooths age and gender per track (unless a
/// second look gave them); a track no detection continues is kept hidden for `recheck` runs (exporter/reuse.py
/// `_update_tracks`).
public struct FaceTracker: Sendable {
    public private(set) var tracks: [Track] = []
    private var nextID = 1
    public let matchIoU: Float
    public let smoothing: Double
    public let recheck: Int

    public init(matchIoU: Float, smoothing: Double, recheck: Int) {
        self.matchIoU = matchIoU
        self.smoothing = smoothing
        self.recheck = recheck
    }

    /// The faces shown: the tracks the last full run found.
    public var shownFaces: [Face] { tracks.filter { $0.missed == 0 }.map(\.smoothedFace) }

    /// The ids of the shown faces.
    public var shownIDs: [Int] { tracks.filter { $0.missed == 0 }.map(\.id) }

    /// Whether the last full run missed a tracked face.
    public var anyMissed: Bool { tracks.contains { $0.missed > 0 } }

    /// Continue tracks with a full run's detections (none after a cut: the faces get new ids); start tracks for the
    /// rest; a track not continued is missed, and dropped after `recheck` misses in a row.
    public mutating func update(with faces: [Face], cut: Bool) {
        var free: [Int] = cut ? [] : Array(tracks.indices)
        var updated: [Track] = []
        // best score first; the sort is stable, as Python's
        let ordered = faces.indices.sorted { faces[$0].score > faces[$1].score || (faces[$0].score == faces[$1].score && $0 < $1) }
        for face in ordered.map({ faces[$0] }) {
            let overlaps = free.map { iou(face.box, tracks[$0].face.box) }
            // the first of the largest overlaps, as numpy's argmax
            let best = overlaps.indices.max { overlaps[$0] < overlaps[$1] || (overlaps[$0] == overlaps[$1] && $0 > $1) }
            let confidence = Track.confidence(of: face.score)
            if let best, overlaps[best] >= matchIoU {
                var track = tracks[free.remove(at: best)]
                if !track.looked {
                    track.age = (1 - smoothing) * track.age + smoothing * Double(face.age ?? 0)
                    track.female = (1 - smoothing) * track.female + smoothing * Double(face.female ?? 0)
                }
                track.face = face
                track.start = face
                track.confidence = confidence
                track.missed = 0
                updated.append(track)
            } else {
                updated.append(Track(id: nextID, face: face, age: Double(face.age ?? 0), female: Double(face.female ?? 0),
                                     start: face, confidence: confidence))
                nextID += 1
            }
        }
        for index in free {  // not found: hidden, looked for again on the next frames, then dropped
            var track = tracks[index]
            track.missed += 1
            if track.missed <= recheck {
                updated.append(track)
            }
        }
        tracks = updated.sorted { $0.id < $1.id }
    }

    /// Indices of the shown tracks due a second look on frame `frame` (exporter/reuse.py `_look_again`): small, and
    /// new or last looked at `refreshEvery` or more frames ago; highest confidence first, then lowest id, at most
    /// `maxFaces`.
    public func dueForSecondLook(_ look: SecondLook, frame: Int, imageWidth: Int, imageHeight: Int) -> [Int] {
        let due = tracks.indices.filter { index in
            let track = tracks[index]
            return track.missed == 0 && look.wants(track.face, imageWidth: imageWidth, imageHeight: imageHeight)
                && (track.lookedAt.map { frame - $0 >= look.refreshEvery } ?? true)
        }
        let ordered = due.sorted { (-tracks[$0].confidence, tracks[$0].id) < (-tracks[$1].confidence, tracks[$1].id) }
        return Array(ordered.prefix(max(look.maxFaces, 0)))
    }

    /// Record a second look at a track on frame `frame`: the face it found (nil: none) gives the track's age and
    /// P(female), kept until its next look; a look that found nothing leaves them as they were.
    public mutating func recordLook(at index: Int, frame: Int, seen: Face?) {
        tracks[index].lookedAt = frame
        if let seen {
            tracks[index].age = Double(seen.age ?? 0)
            tracks[index].female = Double(seen.female ?? 0)
            tracks[index].looked = true
        }
    }

    /// Move every track from where the model saw it by a shift in image pixels.
    public mutating func move(by shifts: [(dx: Float, dy: Float)]) {
        for (index, shift) in zip(tracks.indices, shifts) {
            tracks[index].face = tracks[index].start.moved(dx: shift.dx, dy: shift.dy)
        }
    }

    /// Thumbnail cells a tracked face may cover (exporter/reuse.py `_face_cells`): its box at the last full run,
    /// moved by the camera's shift in cells, widened by the search.
    public func cells(imageWidth: Int, imageHeight: Int, size: Int, search: Int, camera: GridShift) -> [Bool] {
        var mask = [Bool](repeating: false, count: size * size)
        for track in tracks {
            let r = CellRegion(box: track.start.box, imageWidth: imageWidth, imageHeight: imageHeight, size: size)
            let (top, bottom) = (max(r.y0 + camera.dy - search, 0), min(max(r.y1 + camera.dy + search, 0), size))
            let (left, right) = (max(r.x0 + camera.dx - search, 0), min(max(r.x1 + camera.dx + search, 0), size))
            for y in top..<max(bottom, top) {
                for x in left..<max(right, left) {
                    mask[y * size + x] = true
                }
            }
        }
        return mask
    }
}
