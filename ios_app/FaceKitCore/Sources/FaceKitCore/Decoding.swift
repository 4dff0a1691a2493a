import Foundation

/// The outputs of the model, by the role each plays; the manifest names them and gives their order.
public enum OutputRole: String, CaseIterable, Sendable {
    case regressors
    case scores
    case age
    case gender

    /// Shape the model writes for this output (batch of one), from the manifest's counts.
    public static func expectedShape(_ role: OutputRole, anchorCount: Int, keypointCount: Int) -> [Int] {
        switch role {
        case .regressors:
            return [1, anchorCount, 4 + 2 * keypointCount]
        case .scores, .age, .gender:
            return [1, anchorCount, 1]
        }
    }
}

/// Thresholds and the age scale used to turn raw outputs into faces (the manifest's "decode" object).
public struct DecodeConfig: Decodable, Sendable, Equatable {
    public var scoreThreshold: Float
    public var iouThreshold: Float
    public var ageScale: Float

    enum CodingKeys: String, CodingKey {
        case scoreThreshold = "score_threshold"
        case iouThreshold = "iou_threshold"
        case ageScale = "age_scale"
    }

    public init(scoreThreshold: Float, iouThreshold: Float, ageScale: Float) {
        self.scoreThreshold = scoreThreshold
        self.iouThreshold = iouThreshold
        self.ageScale = ageScale
    }
}

/// Logistic function with MediaPipe's clipping to [-100, 100]; exp only of non-positive values.
public func sigmoid(_ logit: Float) -> Float {
    let x = min(max(logit, -100), 100)
    let e = Foundation.exp(-abs(x))
    return x >= 0 ? 1 / (1 + e) : e / (1 + e)
}

/// IoU of two [xmin, ymin, xmax, ymax] boxes; 0 when the union is empty.
public func iou(_ a: [Float], _ b: [Float]) -> Float {
    let ix = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    let iy = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    let inter = ix * iy
    let areaA = max(a[2] - a[0], 0) * max(a[3] - a[1], 0)
    let areaB = max(b[2] - b[0], 0) * max(b[3] - b[1], 0)
    let union = areaA + areaB - inter
    return union > 0 ? inter / union : 0
}

/// Groups detections: the best remaining one and every remaining one overlapping it above the threshold.
/// Each cluster starts with its top detection; clusters come in descending score order, ties by lower index.
public func weightedNMSClusters(boxes: [[Float]], scores: [Float], iouThreshold: Float) -> [[Int]] {
    var remaining = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    var clusters: [[Int]] = []
    while let top = remaining.first {
        var members: [Int] = []
        var rest: [Int] = []
        for (position, index) in remaining.enumerated() {
            if position == 0 || iou(boxes[top], boxes[index]) > iouThreshold {
                members.append(index)
            } else {
                rest.append(index)
            }
        }
        clusters.append(members)
        remaining = rest
    }
    return clusters
}

/// Raw outputs -> faces normalised to the model input: a port of exporter/postprocess.py `decode_faces`.
public struct FaceDecoder: Sendable {
    public let anchors: AnchorTable
    public let inputSize: Int
    public let keypointCount: Int
    public var config: DecodeConfig

    public init(anchors: AnchorSpec, keypointCount: Int, config: DecodeConfig) {
        self.anchors = AnchorTable(spec: anchors)
        self.inputSize = anchors.inputSize
        self.keypointCount = keypointCount
        self.config = config
    }

    /// The decoder the manifest describes.
    public init(manifest: BundleManifest) {
        self.init(anchors: manifest.anchors, keypointCount: manifest.keypoints.count, config: manifest.decode)
    }

    /// Faces from the flattened outputs of one image, keyed by role; age and gender are optional.
    public func decode(_ outputs: [OutputRole: [Float]]) throws -> [Face] {
        let count = anchors.count
        let width = 4 + 2 * keypointCount
        for role in OutputRole.allCases {
            guard let values = outputs[role] else { continue }
            let expected = OutputRole.expectedShape(role, anchorCount: count, keypointCount: keypointCount).reduce(1, *)
            if values.count != expected {
                throw DecodeError.wrongSize(role.rawValue, values.count, expected)
            }
        }
        guard let regressors = outputs[.regressors], let logits = outputs[.scores] else {
            throw DecodeError.missing([OutputRole.regressors, .scores].filter { outputs[$0] == nil }.map(\.rawValue))
        }
        var kept: [Int] = []
        var scores: [Float] = []
        for anchor in 0..<count {
            let score = sigmoid(logits[anchor])
            if score >= config.scoreThreshold {
                kept.append(anchor)
                scores.append(score)
            }
        }
        let size = Float(inputSize)
        let decoded: [[Float]] = kept.map { anchor in
            let raw = regressors[(anchor * width)..<((anchor + 1) * width)].map { $0 }
            let ax = anchors.centreX[anchor]
            let ay = anchors.centreY[anchor]
            let cx = raw[0] / size + ax
            let cy = raw[1] / size + ay
            let w = raw[2] / size
            let h = raw[3] / size
            var row = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            for k in 0..<keypointCount {
                row.append(raw[4 + 2 * k] / size + ax)
                row.append(raw[5 + 2 * k] / size + ay)
            }
            return row
        }
        let ages = outputs[.age].map { raw in kept.map { raw[$0] * config.ageScale } }
        let females = outputs[.gender].map { raw in kept.map { sigmoid(raw[$0]) } }
        let clusters = weightedNMSClusters(boxes: decoded.map { Array($0[0..<4]) }, scores: scores,
                                           iouThreshold: config.iouThreshold)
        return clusters.map { cluster in
            let total = cluster.reduce(Float(0)) { $0 + scores[$1] }
            let weights = cluster.map { scores[$0] / total }
            func blend(_ value: (Int) -> Float) -> Float {
                zip(cluster, weights).reduce(Float(0)) { $0 + $1.1 * value($1.0) }
            }
            let row = (0..<width).map { column in blend { decoded[$0][column] } }
            let keypoints = (0..<keypointCount).map { Point(x: row[4 + 2 * $0], y: row[5 + 2 * $0]) }
            return Face(box: Array(row[0..<4]), keypoints: keypoints, score: scores[cluster[0]],
                        age: ages.map { values in blend { values[$0] } },
                        female: females.map { values in min(max(blend { values[$0] }, 0), 1) })
        }
    }
}

/// Raw outputs that do not fit the manifest.
public enum DecodeError: Error, LocalizedError, Equatable {
    case wrongSize(String, Int, Int)
    case missing([String])

    public var errorDescription: String? {
        switch self {
        case let .wrongSize(name, got, want):
            return "Output \(name) has \(got) values, the manifest's anchors and keypoints need \(want): the model and manifest are from different exports."
        case let .missing(names):
            return "The model gave no \(names.joined(separator: ", ")) output: export the model and manifest again."
        }
    }
}
