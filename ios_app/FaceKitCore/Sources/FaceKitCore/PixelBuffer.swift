#if canImport(CoreVideo) && canImport(Accelerate)
import Accelerate
import CoreVideo

/// Why a pixel buffer could not be read or made.
public enum PixelBufferError: Error, LocalizedError, Equatable {
    case unsupportedFormat(OSType)
    case lockFailed(CVReturn)
    case conversionFailed(Int)
    case creationFailed(CVReturn)

    public var errorDescription: String? {
        switch self {
        case let .unsupportedFormat(format):
            return "Pixel format \(format) is not 32BGRA: set kCVPixelFormatType_32BGRA in the video output's settings."
        case let .lockFailed(status):
            return "Could not lock the pixel buffer (CVReturn \(status))."
        case let .conversionFailed(status):
            return "vImage could not convert the frame (vImage_Error \(status))."
        case let .creationFailed(status):
            return "Could not create a pixel buffer (CVReturn \(status))."
        }
    }
}

extension RGBImage {
    /// The RGB pixels of a 32BGRA camera frame (alpha dropped), converted with vImage.
    public init(bgraPixelBuffer buffer: CVPixelBuffer) throws {
        let format = CVPixelBufferGetPixelFormatType(buffer)
        guard format == kCVPixelFormatType_32BGRA else {
            throw PixelBufferError.unsupportedFormat(format)
        }
        let locked = CVPixelBufferLockBaseAddress(buffer, .readOnly)
        guard locked == kCVReturnSuccess, let base = CVPixelBufferGetBaseAddress(buffer) else {
            throw PixelBufferError.lockFailed(locked)
        }
        defer { CVPixelBufferUnlockBaseAddress(buffer, .readOnly) }
        let width = CVPixelBufferGetWidth(buffer)
        let height = CVPixelBufferGetHeight(buffer)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let status: vImage_Error = pixels.withUnsafeMutableBytes { out in
            var source = vImage_Buffer(data: base, height: vImagePixelCount(height), width: vImagePixelCount(width),
                                       rowBytes: CVPixelBufferGetBytesPerRow(buffer))
            var destination = vImage_Buffer(data: out.baseAddress, height: vImagePixelCount(height),
                                            width: vImagePixelCount(width), rowBytes: width * 3)
            return vImageConvert_BGRA8888toRGB888(&source, &destination, vImage_Flags(kvImageNoFlags))
        }
        guard status == kvImageNoError else {
            throw PixelBufferError.conversionFailed(status)
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// A new 32BGRA pixel buffer holding this image (opaque), for a Core ML image input.
    public func makeBGRAPixelBuffer() throws -> CVPixelBuffer {
        var created: CVPixelBuffer?
        let attributes = [kCVPixelBufferIOSurfacePropertiesKey as String: [String: Any]()] as CFDictionary
        let status = CVPixelBufferCreate(kCFAllocatorDefault, width, height, kCVPixelFormatType_32BGRA, attributes, &created)
        guard status == kCVReturnSuccess, let buffer = created else {
            throw PixelBufferError.creationFailed(status)
        }
        let locked = CVPixelBufferLockBaseAddress(buffer, [])
        guard locked == kCVReturnSuccess, let base = CVPixelBufferGetBaseAddress(buffer) else {
            throw PixelBufferError.lockFailed(locked)
        }
        defer { CVPixelBufferUnlockBaseAddress(buffer, []) }
        let rowBytes = CVPixelBufferGetBytesPerRow(buffer)
        let out = base.assumingMemoryBound(to: UInt8.self)
        pixels.withUnsafeBufferPointer { rgb in
            for y in 0..<height {
                for x in 0..<width {
                    let from = (y * width + x) * 3
                    let to = y * rowBytes + x * 4
                    out[to] = rgb[from + 2]
                    out[to + 1] = rgb[from + 1]
                    out[to + 2] = rgb[from]
                    out[to + 3] = 255
                }
            }
        }
        return buffer
    }
}
#endif
