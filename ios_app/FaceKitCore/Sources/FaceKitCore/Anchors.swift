import Foundation

/// MediaPipe SSD anchor parameters, as the manifest's "anchors" object holds them.
public struct AnchorSpec: Decodable, Sendable, Equatable {
    public let inputSize: Int
    public let strides: [Int]
    public let minScale: Double
    public let maxScale: Double
    public let offset: Double
    public let interpolatedScale: Bool
    public let count: Int?

    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size"
        case strides
        case minScale = "min_scale"
        case maxScale = "max_scale"
        case offset
        case interpolatedScale = "interpolated_scale"
        case count
    }

    /// Nominal scale of a layer (only the anchor count depends on it: the anchors have a fixed unit size).
    func layerScale(_ layer: Int) -> Double {
        if strides.count == 1 {
            return (minScale + maxScale) / 2
        }
        return minScale + (maxScale - minScale) * Double(layer) / Double(strides.count - 1)
    }
}

/// Anchor centres in MediaPipe's order (grid rows, then columns, then the anchors of a cell); width = height = 1.
public struct AnchorTable: Sendable {
    public let centreX: [Float]
    public let centreY: [Float]

    public var count: Int { centreX.count }

    /// Port of exporter/postprocess.py `_anchor_table`: layers of equal stride share a grid.
    public init(spec: AnchorSpec) {
        var xs: [Float] = []
        var ys: [Float] = []
        var layer = 0
        while layer < spec.strides.count {
            let stride = spec.strides[layer]
            var last = layer
            var perCell = 0
            while last < spec.strides.count, spec.strides[last] == stride {
                perCell += spec.interpolatedScale ? 2 : 1
                last += 1
            }
            let cells = Int((Double(spec.inputSize) / Double(stride)).rounded(.up))
            for row in 0..<cells {
                let y = Float((Double(row) + spec.offset) / Double(cells))
                for column in 0..<cells {
                    let x = Float((Double(column) + spec.offset) / Double(cells))
                    for _ in 0..<perCell {
                        xs.append(x)
                        ys.append(y)
                    }
                }
            }
            layer = last
        }
        centreX = xs
        centreY = ys
    }
}
