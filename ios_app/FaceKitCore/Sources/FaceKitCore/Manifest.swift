import Foundation

/// The export bundle's manifest.json (exporter/schemas/manifest.schema.json): every constant the app runs with.
public struct BundleManifest: Decodable, Sendable {
    /// The model input: a size x size RGB square, normalised as (pixel - mean) / std. The Core ML model embeds
    /// the normalisation (it takes pixels); a float-input runtime applies `normalisation` itself.
    public struct Input: Decodable, Sendable {
        public let size: Int
        public let colour: String
        public let mean: Float
        public let std: Float

        public var normalisation: Normalisation { Normalisation(mean: mean, std: std) }
    }

    /// One model output: its name (the role it plays) and what its numbers mean.
    public struct Output: Decodable, Sendable {
        public let name: String
        public let meaning: String
    }

    /// One exported model file with its sha256 and the names of its inputs.
    public struct Model: Decodable, Sendable {
        public let format: String
        public let precision: String
        public let file: String
        public let files: [String: String]
        public let inputNames: [String]

        enum CodingKeys: String, CodingKey {
            case format, precision, file, files, io
        }

        enum IOKeys: String, CodingKey {
            case inputs
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            format = try container.decode(String.self, forKey: .format)
            precision = try container.decode(String.self, forKey: .precision)
            file = try container.decode(String.self, forKey: .file)
            files = try container.decode([String: String].self, forKey: .files)
            let io = try container.nestedContainer(keyedBy: IOKeys.self, forKey: .io)
            let inputs = try io.decodeIfPresent([String: AnyDecodable].self, forKey: .inputs) ?? [:]
            inputNames = inputs.keys.sorted()
        }

        /// The file's sha256 as the manifest records it.
        public var sha256: String? { files[file] }
    }

    public let schemaVersion: Int
    public let target: String
    public let input: Input
    public let outputs: [Output]
    public let anchors: AnchorSpec
    public let decode: DecodeConfig
    public let keypoints: [String]
    public let models: [Model]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case target, input, outputs, anchors, decode, keypoints, models
    }

    /// Reads and checks a manifest; the error says which file and which field was wrong.
    public static func load(from url: URL) throws -> BundleManifest {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ManifestError.unreadable(url.path, "\(error.localizedDescription); run `make export TARGET=ios` first")
        }
        let manifest: BundleManifest
        do {
            manifest = try JSONDecoder().decode(BundleManifest.self, from: data)
        } catch let error as DecodingError {
            throw ManifestError.invalid(url.path, error.fieldDescription)
        }
        try manifest.validate()
        return manifest
    }

    /// The output names in the order the model writes them.
    public var outputNames: [String] { outputs.map(\.name) }

    /// The first model of a format ("coreml", "tflite" ...), or an error naming the formats present.
    public func model(format: String) throws -> Model {
        guard let model = models.first(where: { $0.format == format }) else {
            throw ManifestError.missingModel(format, models.map(\.format))
        }
        return model
    }

    private func validate() throws {
        if schemaVersion != 1 {
            throw ManifestError.invalid("manifest.json", "schema_version \(schemaVersion), this app reads version 1")
        }
        if input.size != anchors.inputSize {
            throw ManifestError.invalid("manifest.json", "input.size \(input.size) differs from anchors.input_size \(anchors.inputSize)")
        }
        let generated = AnchorTable(spec: anchors).count
        if let count = anchors.count, count != generated {
            throw ManifestError.invalid("manifest.json", "anchors.count is \(count) but its spec gives \(generated) anchors")
        }
        let missing = OutputRole.allCases.map(\.rawValue).filter { !outputNames.contains($0) }
        if !missing.isEmpty {
            throw ManifestError.invalid("manifest.json", "outputs lack \(missing.joined(separator: ", "))")
        }
    }
}

/// What went wrong reading a manifest, said so that a person can fix it.
public enum ManifestError: Error, LocalizedError, Equatable {
    case unreadable(String, String)
    case invalid(String, String)
    case missingModel(String, [String])

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, why):
            return "Cannot read the manifest \(path): \(why)."
        case let .invalid(path, why):
            return "The manifest \(path) is not a FaceKit bundle manifest: \(why). Export it again with `make export TARGET=ios`."
        case let .missingModel(format, present):
            return "The manifest lists no \(format) model (it has: \(present.joined(separator: ", "))). Export it with `make export TARGET=ios`."
        }
    }
}

/// Any JSON value, decoded and dropped (to read the keys of an object whose values this app does not use).
struct AnyDecodable: Decodable, Sendable {
    init(from decoder: Decoder) throws {}
}

extension DecodingError {
    /// "anchors.strides: expected [Int]" style text for an error message.
    var fieldDescription: String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch self {
        case let .keyNotFound(key, context):
            return "\(path(context.codingPath + [key])) is missing"
        case let .typeMismatch(type, context):
            return "\(path(context.codingPath)) is not a \(type)"
        case let .valueNotFound(type, context):
            return "\(path(context.codingPath)) has no \(type) value"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return localizedDescription
        }
    }
}
