import Foundation

/// The grey thumbnail the scheduler compares frames by (exporter/reuse.py `thumbnail`), bit for bit.
public struct Thumbnail: Sendable, Equatable {
    /// Samples per cell side, weights of the integer luma and its scale (exporter/reuse.py SAMPLES, LUMA_WEIGHTS).
    public struct Sampling: Codable, Sendable, Equatable {
        public let samples: Int
        public let lumaWeights: [Int]
        public let divisor: Int

        enum CodingKeys: String, CodingKey {
            case samples
            case lumaWeights = "luma_weights"
            case divisor
        }

        public init(samples: Int, lumaWeights: [Int], divisor: Int) {
            self.samples = samples
            self.lumaWeights = lumaWeights
            self.divisor = divisor
        }
    }

    public let size: Int
    public let cells: [Float]

    public subscript(row: Int, column: Int) -> Float { cells[row * size + column] }

    /// Sample the frame on a (size * samples)^2 grid, sum each cell's integer luma, divide in float32.
    public init(frame: RGBImage, size: Int, sampling: Sampling) {
        let n = size * sampling.samples
        let rows = (0..<n).map { (2 * $0 + 1) * frame.height / (2 * n) }
        let columns = (0..<n).map { (2 * $0 + 1) * frame.width / (2 * n) }
        let (wr, wg, wb) = (sampling.lumaWeights[0], sampling.lumaWeights[1], sampling.lumaWeights[2])
        var sums = [Int](repeating: 0, count: size * size)
        frame.pixels.withUnsafeBufferPointer { pixels in
            for (i, y) in rows.enumerated() {
                let cellRow = i / sampling.samples * size
                for (j, x) in columns.enumerated() {
                    let p = (y * frame.width + x) * 3
                    sums[cellRow + j / sampling.samples] += wr * Int(pixels[p]) + wg * Int(pixels[p + 1]) + wb * Int(pixels[p + 2])
                }
            }
        }
        let divisor = Float(sampling.divisor)
        self.size = size
        cells = sums.map { Float($0) / divisor }
    }

    public init(size: Int, cells: [Float]) {
        self.size = size
        self.cells = cells
    }
}

/// Thumbnail cells (x0, y0, x1, y1), end exclusive.
public struct CellRegion: Sendable, Equatable {
    public let x0: Int
    public let y0: Int
    public let x1: Int
    public let y1: Int

    /// The cells an image-pixel box covers: floor of left/top, ceil of right/bottom, at least one cell, inside the grid.
    public init(box: [Float], imageWidth: Int, imageHeight: Int, size: Int) {
        func scaled(_ value: Float, _ extent: Int) -> Double { Double(value) * Double(size) / Double(extent) }
        x0 = min(max(Int(scaled(box[0], imageWidth).rounded(.down)), 0), size - 1)
        y0 = min(max(Int(scaled(box[1], imageHeight).rounded(.down)), 0), size - 1)
        x1 = min(max(Int(scaled(box[2], imageWidth).rounded(.up)), x0 + 1), size)
        y1 = min(max(Int(scaled(box[3], imageHeight).rounded(.up)), y0 + 1), size)
    }
}

/// Largest mean |thumb - reference| over blocks x blocks regions, cells marked in `ignore` left out.
public func regionChange(_ thumb: Thumbnail, _ reference: Thumbnail, blocks: Int, ignore: [Bool]? = nil) -> Float {
    let side = thumb.size / blocks
    var largest: Float = 0
    for by in 0..<blocks {
        for bx in 0..<blocks {
            var sum: Float = 0
            var count: Float = 0
            for y in (by * side)..<((by + 1) * side) {
                for x in (bx * side)..<((bx + 1) * side) where !(ignore?[y * thumb.size + x] ?? false) {
                    sum += abs(thumb[y, x] - reference[y, x])
                    count += 1
                }
            }
            if count > 0 {
                largest = max(largest, sum / count)
            }
        }
    }
    return largest
}

/// The shift (dx, dy) in cells that best maps the region of `previous` onto `current`, and the mean |diff| left.
/// Shifts leaving the grid are not tried; scanning dy then dx from the most negative, a shift replaces the best
/// so far (starting at no shift) only when its mean |diff| is lower by more than 1e-7.
public func bestShift(previous: Thumbnail, current: Thumbnail, region: CellRegion, search: Int) -> (dx: Int, dy: Int, residual: Float) {
    let size = previous.size
    let area = Float((region.x1 - region.x0) * (region.y1 - region.y0))
    func meanDiff(_ dx: Int, _ dy: Int) -> Float {
        var sum: Float = 0
        for y in region.y0..<region.y1 {
            for x in region.x0..<region.x1 {
                sum += abs(current[y + dy, x + dx] - previous[y, x])
            }
        }
        return sum / area
    }
    var best = (dx: 0, dy: 0, residual: meanDiff(0, 0))
    for dy in max(-search, -region.y0)...min(search, size - region.y1) {
        for dx in max(-search, -region.x0)...min(search, size - region.x1) {
            let diff = meanDiff(dx, dy)
            if Double(diff) < Double(best.residual) - 1e-7 {
                best = (dx, dy, diff)
            }
        }
    }
    return best
}
