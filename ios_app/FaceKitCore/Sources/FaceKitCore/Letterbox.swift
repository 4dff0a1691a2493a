import Foundation

/// An RGB image, 8 bits per channel, rows top to bottom, no padding between rows.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "RGBImage needs width x height x 3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }
}

/// How an image was padded to a centred square before resizing; maps model-input coordinates back to pixels.
public struct LetterboxGeometry: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let padX: Float
    public let padY: Float
    public let side: Float

    /// Normalised [0, 1] model-input coordinates to image pixels.
    public func toImage(_ point: Point) -> Point {
        Point(x: point.x * side - padX, y: point.y * side - padY)
    }

    /// Image pixels to normalised model-input coordinates.
    public func toInput(_ point: Point) -> Point {
        Point(x: (point.x + padX) / side, y: (point.y + padY) / side)
    }
}

/// The letterbox of exporter/preprocess.py, bit for bit: 2x2 halvings, then the exact area mean, rounded half up.
public enum Letterbox {
    /// How many 2x2 halvings come before the area resize: the largest n with 2 * size * 2^n <= longestSide.
    public static func halvings(longestSide: Int, size: Int) -> Int {
        var n = 0
        while 2 * size * (1 << (n + 1)) <= longestSide {
            n += 1
        }
        return n
    }

    /// The size x size square the model sees, and the geometry that maps its coordinates back.
    public static func apply(_ image: RGBImage, size: Int) -> (square: RGBImage, geometry: LetterboxGeometry) {
        let (w, h) = (image.width, image.height)
        let longest = max(w, h)
        let block = 1 << halvings(longestSide: longest, size: size)
        let side = (longest + block - 1) / block * block
        let left = (side - w) / 2 / block * block
        let top = (side - h) / 2 / block * block
        var halved = image
        if block > 1 {
            halved = padded(image, width: (w + block - 1) / block * block, height: (h + block - 1) / block * block)
            while halved.height > (h + block - 1) / block {
                halved = halve(halved)
            }
        }
        let small = side / block
        let square = placed(halved, side: small, left: left / block, top: top / block)
        let resized = small == size ? square : areaResize(square, size: size)
        let geometry = LetterboxGeometry(width: w, height: h, padX: Float(left), padY: Float(top), side: Float(side))
        return (resized, geometry)
    }

    /// The image on a black canvas of width x height, at the top left.
    static func padded(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        placedOnCanvas(image, width: width, height: height, left: 0, top: 0)
    }

    /// The image on a black side x side square at (left, top).
    static func placed(_ image: RGBImage, side: Int, left: Int, top: Int) -> RGBImage {
        placedOnCanvas(image, width: side, height: side, left: left, top: top)
    }

    private static func placedOnCanvas(_ image: RGBImage, width: Int, height: Int, left: Int, top: Int) -> RGBImage {
        if width == image.width, height == image.height, left == 0, top == 0 {
            return image
        }
        var canvas = RGBImage(width: width, height: height)
        let rowBytes = image.width * 3
        canvas.pixels.withUnsafeMutableBufferPointer { out in
            image.pixels.withUnsafeBufferPointer { src in
                for y in 0..<image.height {
                    let to = ((top + y) * width + left) * 3
                    let from = y * rowBytes
                    for i in 0..<rowBytes {
                        out[to + i] = src[from + i]
                    }
                }
            }
        }
        return canvas
    }

    /// 2x2 block means of an even-sized image, rounded half up: (a + b + c + d + 2) / 4.
    static func halve(_ image: RGBImage) -> RGBImage {
        let (w, h) = (image.width / 2, image.height / 2)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let stride = image.width * 3
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row0 = 2 * y * stride
                    let row1 = row0 + stride
                    for x in 0..<w {
                        for c in 0..<3 {
                            let i = 6 * x + c
                            let sum = Int(src[row0 + i]) + Int(src[row0 + i + 3]) + Int(src[row1 + i]) + Int(src[row1 + i + 3])
                            dst[(y * w + x) * 3 + c] = UInt8((sum + 2) / 4)
                        }
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Exact area mean of an N x N square onto size x size, rounded half up, in 64-bit integers (see preprocess.py).
    static func areaResize(_ square: RGBImage, size: Int) -> RGBImage {
        let n = square.width
        let s = Int64(size)
        // Integral image I[(N+1) x (N+1) x 3]: sums of the pixels in rows < i and columns < j.
        var integral = [Int64](repeating: 0, count: (n + 1) * (n + 1) * 3)
        square.pixels.withUnsafeBufferPointer { src in
            integral.withUnsafeMutableBufferPointer { sums in
                for i in 0..<n {
                    var rowSum: (Int64, Int64, Int64) = (0, 0, 0)
                    for j in 0..<n {
                        let p = (i * n + j) * 3
                        rowSum.0 += Int64(src[p])
                        rowSum.1 += Int64(src[p + 1])
                        rowSum.2 += Int64(src[p + 2])
                        let above = (i * (n + 1) + j + 1) * 3
                        let here = ((i + 1) * (n + 1) + j + 1) * 3
                        sums[here] = sums[above] + rowSum.0
                        sums[here + 1] = sums[above + 1] + rowSum.1
                        sums[here + 2] = sums[above + 2] + rowSum.2
                    }
                }
            }
        }
        // Grid line k: q_k = k N / S, r_k = k N % S (weights of the two integral rows / columns it falls between).
        let q = (0...size).map { $0 * n / size }
        let r = (0...size).map { Int64($0 * n % size) }
        let q1 = q.map { min($0 + 1, n) }
        // R_k(j) for every grid row k and integral column j, then G(k, l) over the grid columns.
        var rows = [Int64](repeating: 0, count: (size + 1) * (n + 1) * 3)
        var grid = [Int64](repeating: 0, count: (size + 1) * (size + 1) * 3)
        integral.withUnsafeBufferPointer { sums in
            rows.withUnsafeMutableBufferPointer { rowsOut in
                for k in 0...size {
                    let a = (s - r[k]), b = r[k]
                    let lower = q[k] * (n + 1) * 3, upper = q1[k] * (n + 1) * 3
                    for j in 0..<((n + 1) * 3) {
                        rowsOut[k * (n + 1) * 3 + j] = a * sums[lower + j] + b * sums[upper + j]
                    }
                }
            }
        }
        rows.withUnsafeBufferPointer { rowsIn in
            grid.withUnsafeMutableBufferPointer { gridOut in
                for k in 0...size {
                    let base = k * (n + 1) * 3
                    for l in 0...size {
                        let a = (s - r[l]), b = r[l]
                        for c in 0..<3 {
                            gridOut[(k * (size + 1) + l) * 3 + c] = a * rowsIn[base + q[l] * 3 + c] + b * rowsIn[base + q1[l] * 3 + c]
                        }
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: size * size * 3)
        let nn = Int64(n) * Int64(n)
        grid.withUnsafeBufferPointer { g in
            for y in 0..<size {
                for x in 0..<size {
                    for c in 0..<3 {
                        func at(_ k: Int, _ l: Int) -> Int64 { g[(k * (size + 1) + l) * 3 + c] }
                        let area = at(y + 1, x + 1) - at(y, x + 1) - at(y + 1, x) + at(y, x)
                        out[(y * size + x) * 3 + c] = UInt8((2 * area + nn) / (2 * nn))
                    }
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: out)
    }
}

/// The model's input normalisation: (pixel - mean) / std in float32, computed as pixel / std - mean / std.
public struct Normalisation: Sendable, Equatable {
    public let mean: Float
    public let std: Float

    public init(mean: Float, std: Float) {
        self.mean = mean
        self.std = std
    }

    /// Float32 values of a uint8 image, same layout (HWC), exactly as exporter/spec.py InputSpec.normalise.
    public func apply(_ image: RGBImage) -> [Float] {
        let offset = Float(Double(mean) / Double(std))
        return image.pixels.map { Float($0) / std - offset }
    }
}
