import CoreGraphics
import FaceKitCore
import Foundation

/// Everything the app reads from its bundle: the export manifest and model, the reuse and second-look settings and
/// the test media.
struct DemoResources {
    let manifest: BundleManifest
    let coreMLModel: BundleManifest.Model
    let compiledModelURL: URL
    let reuse: ReuseTracesFile
    let secondLook: SecondLook
    let contractFolder: URL

    /// Loads the manifest and the compiled model that `make export TARGET=ios` installed, and the golden folder.
    static func load(from bundle: Bundle = .main) throws -> DemoResources {
        guard let manifestURL = bundle.url(forResource: "manifest", withExtension: "json") else {
            throw DemoError.missingResource("manifest.json", "run `make export TARGET=ios`, then `xcodegen generate` in ios_app/FaceKitDemo")
        }
        let manifest = try BundleManifest.load(from: manifestURL)
        let model = try manifest.model(format: "coreml")
        let compiledName = (model.file as NSString).deletingPathExtension
        guard let compiled = bundle.url(forResource: compiledName, withExtension: "mlmodelc") else {
            throw DemoError.missingResource("\(compiledName).mlmodelc", "the manifest names \(model.file): add it to the app target (project.yml does) and build again")
        }
        guard let golden = bundle.url(forResource: "golden", withExtension: nil) else {
            throw DemoError.missingResource("golden/", "the app bundles tests/golden (see project.yml)")
        }
        let contract = try BenchmarkMedia.index(in: golden)
        let reuse = try ReuseTracesFile.load(from: golden.appendingPathComponent(contract.reuseTraces))
        let secondLook = try contract.secondLook.validated()
        return DemoResources(manifest: manifest, coreMLModel: model, compiledModelURL: compiled, reuse: reuse,
                             secondLook: secondLook, contractFolder: golden)
    }
}

/// A resource the app needs is not in its bundle.
enum DemoError: Error, LocalizedError {
    case missingResource(String, String)
    case unreadableImage(String)

    var errorDescription: String? {
        switch self {
        case let .missingResource(name, fix):
            return "\(name) is not in the app bundle: \(fix)."
        case let .unreadableImage(name):
            return "Cannot decode the bundled image \(name)."
        }
    }
}

extension RGBImage {
    /// The pixels of a CGImage drawn into an sRGB RGBA context (alpha dropped).
    init(cgImage: CGImage) throws {
        let width = cgImage.width
        let height = cgImage.height
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let drawn: Bool = rgba.withUnsafeMutableBytes { buffer in
            guard let space = CGColorSpace(name: CGColorSpace.sRGB),
                  let context = CGContext(data: buffer.baseAddress, width: width, height: height, bitsPerComponent: 8,
                                          bytesPerRow: width * 4, space: space,
                                          bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue) else {
                return false
            }
            context.draw(cgImage, in: CGRect(x: 0, y: 0, width: width, height: height))
            return true
        }
        guard drawn else {
            throw DemoError.unreadableImage("a \(width)x\(height) image")
        }
        var rgb = [UInt8]()
        rgb.reserveCapacity(width * height * 3)
        for pixel in stride(from: 0, to: rgba.count, by: 4) {
            rgb.append(contentsOf: rgba[pixel..<(pixel + 3)])
        }
        self.init(width: width, height: height, pixels: rgb)
    }
}
