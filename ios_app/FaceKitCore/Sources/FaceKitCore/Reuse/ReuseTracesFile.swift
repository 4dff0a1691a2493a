import Foundation

/// A face as the Python reference writes it (exporter/postprocess.py Face.to_dict).
public struct StoredFace: Decodable, Sendable, Equatable {
    public let box: [Float]
    public let keypoints: [[Float]]
    public let score: Float
    public let age: Float?
    public let female: Float?

    /// As a Face (keypoints as points).
    public var face: Face {
        Face(box: box, keypoints: keypoints.map { Point(x: $0[0], y: $0[1]) }, score: score, age: age, female: female)
    }
}

/// reuse_traces.json (exporter/export/reuse_golden.py): a synthetic clip, the detector's faces on each frame, the
/// thumbnail sampling, and each policy's settings and decisions (the last entry with a second look). The app takes
/// its default settings from it.
public struct ReuseTracesFile: Decodable, Sendable {
    /// The clip: `count` frames of height x width x 3 RGB bytes (row-major), one after the other, as base64 of
    /// their raw DEFLATE stream (RFC 1951, no zlib header).
    public struct Frames: Decodable, Sendable {
        public let width: Int
        public let height: Int
        public let count: Int
        public let data: String
    }

    public struct Policy: Decodable, Sendable {
        public let config: ReuseConfig
        /// Tracking with a second look: its settings, and what the look function answers on each frame, call by call.
        public let secondLook: SecondLook?
        public let lookAnswers: [[LookAnswer?]]?
        public let trace: [TracedDecision]

        enum CodingKeys: String, CodingKey {
            case config, trace
            case secondLook = "second_look"
            case lookAnswers = "look_answers"
        }
    }

    /// The age and P(female) of the face a golden look call finds (nil in `lookAnswers`: no face found).
    public struct LookAnswer: Decodable, Sendable, Equatable {
        public let age: Float
        public let female: Float
    }

    public struct TracedDecision: Decodable, Sendable {
        public let index: Int
        public let ranModel: Bool
        public let reason: String
        public let change: Double
        /// The camera's shift in samples, (dx, dy).
        public let motion: [Int]
        public let trackIDs: [Int]
        /// The track ids looked at again on this frame (second look).
        public let looked: [Int]
        public let faces: [StoredFace]

        enum CodingKeys: String, CodingKey {
            case index, reason, change, motion, faces, looked
            case ranModel = "ran_model"
            case trackIDs = "track_ids"
        }
    }

    public let sampling: Thumbnail.Sampling
    public let thumbnailSize: Int
    public let frames: Frames
    public let detections: [[StoredFace]]
    public let thumbnails: [[[Float]]]
    public let policies: [Policy]

    enum CodingKeys: String, CodingKey {
        case thumbnail, frames, detections, thumbnails, policies
    }

    enum ThumbnailKeys: String, CodingKey {
        case size
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sampling = try container.decode(Thumbnail.Sampling.self, forKey: .thumbnail)
        thumbnailSize = try container.nestedContainer(keyedBy: ThumbnailKeys.self, forKey: .thumbnail).decode(Int.self, forKey: .size)
        frames = try container.decode(Frames.self, forKey: .frames)
        detections = try container.decode([[StoredFace]].self, forKey: .detections)
        thumbnails = try container.decode([[[Float]]].self, forKey: .thumbnails)
        policies = try container.decode([Policy].self, forKey: .policies)
    }

    /// Reads the file; the error names it and the field that was wrong.
    public static func load(from url: URL) throws -> ReuseTracesFile {
        do {
            return try JSONDecoder().decode(ReuseTracesFile.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw ManifestError.invalid(url.path, error.fieldDescription)
        }
    }

    /// The clip's frames, `inflate` undoing raw DEFLATE (RFC 1951); the error says what was wrong.
    public func clip(inflate: ([UInt8]) throws -> [UInt8]) throws -> [RGBImage] {
        let frameBytes = frames.width * frames.height * 3
        guard let compressed = Data(base64Encoded: frames.data) else {
            throw ManifestError.invalid("reuse_traces.json", "frames.data is not base64")
        }
        let bytes = try inflate([UInt8](compressed))
        guard frameBytes > 0, bytes.count == frames.count * frameBytes else {
            throw ManifestError.invalid("reuse_traces.json", "frames.data inflates to \(bytes.count) bytes, not \(frames.count) "
                                        + "frames of \(frames.width)x\(frames.height)x3")
        }
        return (0..<frames.count).map { index in
            RGBImage(width: frames.width, height: frames.height,
                     pixels: Array(bytes[(index * frameBytes)..<((index + 1) * frameBytes)]))
        }
    }

    #if canImport(Darwin)
    /// The clip's frames, inflated by Foundation (NSData's .zlib is raw DEFLATE; iOS 13+, macOS 10.15+).
    public func clip() throws -> [RGBImage] {
        try clip { compressed in
            let inflated = try (Data(compressed) as NSData).decompressed(using: .zlib)
            return [UInt8](inflated as Data)
        }
    }
    #endif

    /// The settings the traces were written with, by policy.
    public var configs: [ReusePolicy: ReuseConfig] {
        Dictionary(policies.map { ($0.config.policy, $0.config) }, uniquingKeysWith: { first, _ in first })
    }
}
