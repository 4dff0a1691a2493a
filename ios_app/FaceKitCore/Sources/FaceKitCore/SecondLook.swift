import Foundation

/// When and how to look again at a small face (exporter/second_look.py SecondLook, read from the contract's
/// "second_look"): the model reads age and gender best when a face fills its input, so a small face is cut square
/// from the image and run through the same pipeline once more. Integer geometry, bit for bit the reference's.
public struct SecondLook: Codable, Sendable, Equatable {
    /// Runs the model on an image and returns the faces in that image's pixels.
    public typealias FirstLook = (RGBImage) throws -> [Face]

    /// Look again when the box side is below this share of the image's longer side.
    public var maxFaceFraction: Double
    /// Crop side / box side.
    public var cropScale: Double
    /// At most this many faces per image, the highest scores first.
    public var maxFaces: Int
    /// Video: a tracked face is looked at again after this many frames.
    public var refreshEvery: Int

    enum CodingKeys: String, CodingKey {
        case maxFaceFraction = "max_face_fraction"
        case cropScale = "crop_scale"
        case maxFaces = "max_faces"
        case refreshEvery = "refresh_every"
    }

    /// The reference's settings by default.
    public init(maxFaceFraction: Double = 0.6, cropScale: Double = 1.25, maxFaces: Int = 4, refreshEvery: Int = 30) {
        self.maxFaceFraction = maxFaceFraction
        self.cropScale = cropScale
        self.maxFaces = maxFaces
        self.refreshEvery = refreshEvery
    }

    /// The settings the app can be given; the error says which one is out of range (the reference's __post_init__).
    public func validated() throws -> SecondLook {
        if !(maxFaceFraction > 0 && maxFaceFraction <= 1) || !(cropScale >= 1) || maxFaces < 0 || refreshEvery < 1 {
            throw SecondLookError.outOfRange("max_face_fraction in (0, 1], crop_scale >= 1, max_faces >= 0 and "
                                             + "refresh_every >= 1 are required")
        }
        return self
    }

    /// Whether a face (image pixels) is small enough in the input to be looked at again.
    public func wants(_ face: Face, imageWidth: Int, imageHeight: Int) -> Bool {
        let side = max(face.box[2] - face.box[0], face.box[3] - face.box[1])
        return Double(side) < maxFaceFraction * Double(max(imageWidth, imageHeight))
    }

    /// The square around a face box in image pixels (the box's values read as doubles).
    public func cropSquare(_ box: [Float]) -> (left: Int, top: Int, side: Int) {
        let (x0, y0, x1, y1) = (Double(box[0]), Double(box[1]), Double(box[2]), Double(box[3]))
        let side = max(1, Self.roundHalfUp(cropScale * max(x1 - x0, y1 - y0)))
        let half = Double(side) / 2
        return (Self.roundHalfUp((x0 + x1) / 2 - half), Self.roundHalfUp((y0 + y1) / 2 - half), side)
    }

    /// The small faces with age and gender, highest score first (ties: list order), at most `maxFaces`.
    public func plan(_ faces: [Face], imageWidth: Int, imageHeight: Int) -> [PlannedLook] {
        let small = faces.indices.filter { faces[$0].age != nil && wants(faces[$0], imageWidth: imageWidth, imageHeight: imageHeight) }
        let ordered = small.sorted { faces[$0].score > faces[$1].score || (faces[$0].score == faces[$1].score && $0 < $1) }
        return ordered.prefix(max(maxFaces, 0)).map { index in
            let square = cropSquare(faces[index].box)
            return PlannedLook(faceIndex: index, left: square.left, top: square.top, side: square.side)
        }
    }

    /// The face the model finds nearest the centre of the square around `face` (crop pixels; nil: no face).
    public func lookAt(_ image: RGBImage, face: Face, firstLook: FirstLook) rethrows -> Face? {
        let square = cropSquare(face.box)
        let found = try firstLook(image.cutSquare(left: square.left, top: square.top, side: square.side))
        return Self.nearestToCentre(found, side: square.side).map { found[$0] }
    }

    /// Faces with age and P(female) from a second look where the face is small; also the number of extra runs.
    public func lookAgain(_ image: RGBImage, faces: [Face], firstLook: FirstLook) rethrows -> (faces: [Face], extraRuns: Int) {
        let planned = plan(faces, imageWidth: image.width, imageHeight: image.height)
        var out = faces
        for look in planned {
            if let seen = try lookAt(image, face: faces[look.faceIndex], firstLook: firstLook) {
                out[look.faceIndex].age = seen.age
                out[look.faceIndex].female = seen.female
            }
        }
        return (out, planned.count)
    }

    /// Index of the face whose box centre is nearest the centre of a side x side crop (nil: none; ties: the first).
    public static func nearestToCentre(_ faces: [Face], side: Int) -> Int? {
        let centre = Double(side) / 2
        let distances = faces.map { face -> Double in
            let dx = Double(face.box[0] + face.box[2]) / 2 - centre
            let dy = Double(face.box[1] + face.box[3]) / 2 - centre
            return dx * dx + dy * dy
        }
        return distances.indices.min { distances[$0] < distances[$1] || (distances[$0] == distances[$1] && $0 < $1) }
    }

    /// floor(value + 0.5), the rounding every port uses (not round-half-even); written as floor((2 value + 1) / 2),
    /// the same double (doubling and halving are exact), so that no literal looks like the score threshold.
    public static func roundHalfUp(_ value: Double) -> Int {
        Int(((2 * value + 1) / 2).rounded(.down))
    }
}

/// A second look to take: which face (index in the first look's list) and the square to cut, in image pixels.
public struct PlannedLook: Sendable, Equatable {
    public let faceIndex: Int
    public let left: Int
    public let top: Int
    public let side: Int
}

/// Second-look settings that cannot be used.
public enum SecondLookError: Error, LocalizedError, Equatable {
    case outOfRange(String)
    case noLook

    public var errorDescription: String? {
        switch self {
        case let .outOfRange(what): return "Invalid second-look settings: \(what)."
        case .noLook: return "A frame-reuse scheduler with a second look needs `look` (frame, face -> face or nil)."
        }
    }
}

extension RGBImage {
    /// The side x side square of the image at (left, top), black where it lies outside the image.
    public func cutSquare(left: Int, top: Int, side: Int) -> RGBImage {
        var out = RGBImage(width: side, height: side)
        let (x0, y0) = (max(left, 0), max(top, 0))
        let (x1, y1) = (min(left + side, width), min(top + side, height))
        guard x1 > x0, y1 > y0 else { return out }
        let rowBytes = (x1 - x0) * 3
        out.pixels.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in y0..<y1 {
                    let to = ((y - top) * side + (x0 - left)) * 3
                    let from = (y * width + x0) * 3
                    for i in 0..<rowBytes {
                        dst[to + i] = src[from + i]
                    }
                }
            }
        }
        return out
    }
}
