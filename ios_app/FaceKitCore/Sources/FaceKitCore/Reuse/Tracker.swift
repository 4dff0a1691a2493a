import Foundation

/// A face followed across frames.
public struct Track: Sendable, Equatable {
    public let id: Int
    /// Box and keypoints in image pixels at the current frame.
    public var face: Face
    public var age: Double
    public var female: Double
    /// The face as the model saw it at the last full run.
    public var start: Face

    /// The face with its smoothed age and P(female).
    public var smoothedFace: Face {
        var shown = face
        shown.age = Float(age)
        shown.female = Float(female)
        return shown
    }
}

/// Matches detections to tracks by IoU (greedy, best score first) and smooths age and gender per track.
public struct FaceTracker: Sendable {
    public private(set) var tracks: [Track] = []
    private var nextID = 1
    public let matchIoU: Float
    public let smoothing: Double

    public init(matchIoU: Float, smoothing: Double) {
        self.matchIoU = matchIoU
        self.smoothing = smoothing
    }

    /// Continue tracks with a full run's detections; start tracks for the rest; unmatched tracks end.
    public mutating func update(with faces: [Face]) {
        var free = Array(tracks.indices)
        var updated: [Track] = []
        let ordered = faces.indices.sorted { faces[$0].score > faces[$1].score || (faces[$0].score == faces[$1].score && $0 < $1) }
        for face in ordered.map({ faces[$0] }) {
            let overlaps = free.map { iou(face.box, tracks[$0].face.box) }
            if let best = overlaps.indices.max(by: { overlaps[$0] < overlaps[$1] || (overlaps[$0] == overlaps[$1] && $0 > $1) }),
               overlaps[best] >= matchIoU {
                var track = tracks[free.remove(at: best)]
                track.age = (1 - smoothing) * track.age + smoothing * Double(face.age ?? 0)
                track.female = (1 - smoothing) * track.female + smoothing * Double(face.female ?? 0)
                track.face = face
                track.start = face
                updated.append(track)
            } else {
                updated.append(Track(id: nextID, face: face, age: Double(face.age ?? 0), female: Double(face.female ?? 0), start: face))
                nextID += 1
            }
        }
        tracks = updated.sorted { $0.id < $1.id }
    }

    /// Move every track from where the model saw it by a shift in image pixels.
    public mutating func move(by shifts: [(dx: Float, dy: Float)]) {
        for (index, shift) in zip(tracks.indices, shifts) {
            tracks[index].face = tracks[index].start.moved(dx: shift.dx, dy: shift.dy)
        }
    }

    /// Thumbnail cells a tracked face may cover since the last full run (its boxes widened by the search).
    public func cells(imageWidth: Int, imageHeight: Int, size: Int, search: Int) -> [Bool] {
        var mask = [Bool](repeating: false, count: size * size)
        for track in tracks {
            for box in [track.face.box, track.start.box] {
                let r = CellRegion(box: box, imageWidth: imageWidth, imageHeight: imageHeight, size: size)
                for y in max(r.y0 - search, 0)..<min(r.y1 + search, size) {
                    for x in max(r.x0 - search, 0)..<min(r.x1 + search, size) {
                        mask[y * size + x] = true
                    }
                }
            }
        }
        return mask
    }
}
