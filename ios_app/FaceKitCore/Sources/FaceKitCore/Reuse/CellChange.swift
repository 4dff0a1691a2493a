import Foundation

/// A summed |cell difference| over some cells: the change of a set of cells is sum / (cells * scale), exactly
/// as exporter/reuse.py compares it.
public struct ChangeSum: Sendable, Equatable {
    public var sum: Int
    public var cells: Int

    public init(sum: Int, cells: Int) {
        self.sum = sum
        self.cells = cells
    }

    /// The mean change, luma in [0, 1] (`_change`).
    public func change(scale: Int) -> Double {
        Double(sum) / (Double(cells) * Double(scale))
    }

    /// Whether the mean change is above the threshold: sum > threshold * cells * scale, double products in this
    /// order (`_exceeds`; the sums are below 2^53, exact in double).
    public func exceeds(_ threshold: Double, scale: Int) -> Bool {
        Double(sum) > threshold * Double(cells) * Double(scale)
    }
}

/// Per cell, its region (blocks x blocks, row-major) and its border segment (exporter/reuse.py `_labels`): the
/// border ring is `edgeRing` cells deep, its segments `edgeSegment` long: the top rows, the bottom rows, then the
/// left and right columns between them, numbered by column (rows) / edgeSegment; inner cells have no segment.
public struct CellLabels: Sendable, Equatable {
    public let size: Int
    public let regionCount: Int
    public let segmentCount: Int
    public let regions: [Int]
    public let segments: [Int?]

    public init(size: Int, blocks: Int, ring: Int = ReuseConfig.edgeRing, segment: Int = ReuseConfig.edgeSegment) {
        let side = size / blocks
        let perSide = size / segment
        var regions = [Int](repeating: 0, count: size * size)
        var segments = [Int?](repeating: nil, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                regions[y * size + x] = y / side * blocks + x / side
                if y < ring {
                    segments[y * size + x] = x / segment
                } else if y >= size - ring {
                    segments[y * size + x] = perSide + x / segment
                } else if x < ring {
                    segments[y * size + x] = 2 * perSide + y / segment
                } else if x >= size - ring {
                    segments[y * size + x] = 3 * perSide + y / segment
                }
            }
        }
        self.size = size
        regionCount = blocks * blocks
        segmentCount = 4 * perSide
        self.regions = regions
        self.segments = segments
    }

    /// The region and the border segment with the largest mean |difference| over the kept cells
    /// (`region_and_border_change`).
    public func largestChanges(_ diff: CellGrid, keep: [Bool]) -> (region: ChangeSum, border: ChangeSum) {
        (Self.largestMean(diff, keep: keep, labels: regions, count: regionCount),
         Self.largestMean(diff, keep: keep, labels: segments, count: segmentCount))
    }

    /// The group with the largest mean sum / cells in double over kept cells, the first of equal means; (0, 1) when
    /// no cell is kept (`_largest_means`).
    static func largestMean(_ diff: CellGrid, keep: [Bool], labels: [Int?], count: Int) -> ChangeSum {
        var groups = [ChangeSum](repeating: ChangeSum(sum: 0, cells: 0), count: count)
        for (cell, label) in labels.enumerated() where keep[cell] {
            guard let label else { continue }
            groups[label].sum += diff.values[cell]
            groups[label].cells += 1
        }
        var best: (group: ChangeSum, mean: Double)?
        for group in groups where group.cells > 0 {
            let mean = Double(group.sum) / Double(group.cells)
            if mean > best?.mean ?? -Double.infinity {
                best = (group, mean)
            }
        }
        return best?.group ?? ChangeSum(sum: 0, cells: 1)
    }
}

/// The cell shift (dx, dy) within `search` of `centre` that best maps the region of `previous` onto `current`, and
/// the sum |difference| left, or nil when no shift fits in the grid (exporter/reuse.py `best_shift`). Scanning dy,
/// then dx, from the most negative, the first lowest sum wins; the centre is preferred on a tie.
public func bestShift(previous: CellGrid, current: CellGrid, region: CellRegion, search: Int,
                      centre: GridShift = .zero) -> (shift: GridShift, sum: Int)? {
    let size = previous.size
    let (dyLow, dyHigh) = (max(centre.dy - search, -region.y0), min(centre.dy + search, size - region.y1))
    let (dxLow, dxHigh) = (max(centre.dx - search, -region.x0), min(centre.dx + search, size - region.x1))
    guard dyLow <= dyHigh, dxLow <= dxHigh else { return nil }  // the face has left the picture
    func sum(_ dx: Int, _ dy: Int) -> Int {
        var total = 0
        for y in region.y0..<region.y1 {
            for x in region.x0..<region.x1 {
                total += abs(current[y + dy, x + dx] - previous[y, x])
            }
        }
        return total
    }
    var best: (shift: GridShift, sum: Int)?
    var atCentre: Int?
    for dy in dyLow...dyHigh {
        for dx in dxLow...dxHigh {
            let total = sum(dx, dy)
            if total < best?.sum ?? .max {
                best = (GridShift(dx: dx, dy: dy), total)
            }
            if dx == centre.dx, dy == centre.dy {
                atCentre = total
            }
        }
    }
    if let atCentre, let found = best, atCentre == found.sum {
        return (centre, atCentre)
    }
    return best
}
