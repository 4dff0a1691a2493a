import FaceKitCore
import XCTest

/// Mapping frame pixels onto the preview: aspect fill, quarter turns and the front camera's mirror.
final class ViewMappingTests: XCTestCase {
    func testSameSizeIsTheIdentity() {
        let mapping = ViewMapping(imageWidth: 64, imageHeight: 48, viewWidth: 64, viewHeight: 48)
        XCTAssertEqual(mapping.map(Point(x: 3, y: 5)), Point(x: 3, y: 5))
    }

    func testAspectFillScalesToCoverAndCentres() {
        // A 100x100 frame on a 200x100 view: scale 2, 200x200 shown, 50 points cut at the top and bottom.
        let mapping = ViewMapping(imageWidth: 100, imageHeight: 100, viewWidth: 200, viewHeight: 100)
        XCTAssertEqual(mapping.map(Point(x: 50, y: 50)), Point(x: 100, y: 50))
        XCTAssertEqual(mapping.map(Point(x: 0, y: 25)), Point(x: 0, y: 0))
    }

    func testMirrorFlipsXAndKeepsBoxesOrdered() {
        let mapping = ViewMapping(imageWidth: 100, imageHeight: 50, viewWidth: 100, viewHeight: 50, mirrored: true)
        XCTAssertEqual(mapping.map(Point(x: 10, y: 20)), Point(x: 90, y: 20))
        let face = Face(box: [10, 10, 30, 40], keypoints: [Point(x: 12, y: 15)], score: 0.9)
        XCTAssertEqual(mapping.map(face).box, [70, 10, 90, 40])
        XCTAssertEqual(mapping.map(face).keypoints, [Point(x: 88, y: 15)])
    }

    func testQuarterTurnsMoveTheCornersClockwise() {
        // A 40x20 frame turned a quarter clockwise is 20x40: its top-left corner goes to the top right.
        let quarter = ViewMapping(imageWidth: 40, imageHeight: 20, viewWidth: 20, viewHeight: 40, rotation: .quarter)
        XCTAssertEqual(quarter.map(Point(x: 0, y: 0)), Point(x: 20, y: 0))
        XCTAssertEqual(quarter.map(Point(x: 40, y: 20)), Point(x: 0, y: 40))
        let half = ViewMapping(imageWidth: 40, imageHeight: 20, viewWidth: 40, viewHeight: 20, rotation: .half)
        XCTAssertEqual(half.map(Point(x: 0, y: 0)), Point(x: 40, y: 20))
        let threeQuarters = ViewMapping(imageWidth: 40, imageHeight: 20, viewWidth: 20, viewHeight: 40, rotation: .threeQuarters)
        XCTAssertEqual(threeQuarters.map(Point(x: 0, y: 0)), Point(x: 0, y: 40))
    }
}
