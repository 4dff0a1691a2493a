import Foundation

/// A point in normalised model-input coordinates or in image pixels.
public struct Point: Sendable, Equatable {
    public var x: Float
    public var y: Float

    public init(x: Float, y: Float) {
        self.x = x
        self.y = y
    }
}

/// One detected face: box (xmin, ymin, xmax, ymax), keypoints in the manifest's order, score, age, P(female).
public struct Face: Sendable, Equatable {
    public var box: [Float]
    public var keypoints: [Point]
    public var score: Float
    public var age: Float?
    public var female: Float?

    public init(box: [Float], keypoints: [Point], score: Float, age: Float? = nil, female: Float? = nil) {
        self.box = box
        self.keypoints = keypoints
        self.score = score
        self.age = age
        self.female = female
    }

    /// The same face moved by (dx, dy).
    public func moved(dx: Float, dy: Float) -> Face {
        var face = self
        face.box = [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy]
        face.keypoints = keypoints.map { Point(x: $0.x + dx, y: $0.y + dy) }
        return face
    }

    /// From normalised model-input coordinates to the pixels of the letterboxed image.
    public func toImage(_ letterbox: LetterboxGeometry) -> Face {
        var face = self
        let topLeft = letterbox.toImage(Point(x: box[0], y: box[1]))
        let bottomRight = letterbox.toImage(Point(x: box[2], y: box[3]))
        face.box = [topLeft.x, topLeft.y, bottomRight.x, bottomRight.y]
        face.keypoints = keypoints.map(letterbox.toImage)
        return face
    }
}
