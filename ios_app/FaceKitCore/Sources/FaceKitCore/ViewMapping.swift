import Foundation

/// Maps image pixels (the frame the model saw) onto a view showing it with aspect fill, a rotation and a mirror.
public struct ViewMapping: Sendable, Equatable {
    /// Clockwise quarter turns from the frame to the screen.
    public enum Rotation: Int, Sendable, CaseIterable {
        case none = 0
        case quarter = 1
        case half = 2
        case threeQuarters = 3
    }

    public let imageWidth: Float
    public let imageHeight: Float
    public let viewWidth: Float
    public let viewHeight: Float
    public let rotation: Rotation
    public let mirrored: Bool

    public init(imageWidth: Int, imageHeight: Int, viewWidth: Float, viewHeight: Float, rotation: Rotation = .none,
                mirrored: Bool = false) {
        self.imageWidth = Float(imageWidth)
        self.imageHeight = Float(imageHeight)
        self.viewWidth = viewWidth
        self.viewHeight = viewHeight
        self.rotation = rotation
        self.mirrored = mirrored
    }

    /// Size of the frame once rotated onto the screen.
    var rotatedSize: (width: Float, height: Float) {
        rotation.rawValue % 2 == 0 ? (imageWidth, imageHeight) : (imageHeight, imageWidth)
    }

    /// Scale and offsets of aspect fill (the frame covers the view, centred, the overflow cropped).
    var fill: (scale: Float, offsetX: Float, offsetY: Float) {
        let (w, h) = rotatedSize
        let scale = max(viewWidth / w, viewHeight / h)
        return (scale, (viewWidth - w * scale) / 2, (viewHeight - h * scale) / 2)
    }

    /// A frame pixel position in view points.
    public func map(_ point: Point) -> Point {
        let (w, h) = (imageWidth, imageHeight)
        var rotated: Point
        switch rotation {
        case .none: rotated = point
        case .quarter: rotated = Point(x: h - point.y, y: point.x)
        case .half: rotated = Point(x: w - point.x, y: h - point.y)
        case .threeQuarters: rotated = Point(x: point.y, y: w - point.x)
        }
        if mirrored {
            rotated.x = rotatedSize.width - rotated.x
        }
        let (scale, offsetX, offsetY) = fill
        return Point(x: rotated.x * scale + offsetX, y: rotated.y * scale + offsetY)
    }

    /// A face in view points: keypoints mapped, the box as the bounding box of its mapped corners.
    public func map(_ face: Face) -> Face {
        let corners = [Point(x: face.box[0], y: face.box[1]), Point(x: face.box[2], y: face.box[3])].map(map)
        var mapped = face
        mapped.box = [min(corners[0].x, corners[1].x), min(corners[0].y, corners[1].y),
                      max(corners[0].x, corners[1].x), max(corners[0].y, corners[1].y)]
        mapped.keypoints = face.keypoints.map(map)
        return mapped
    }
}
