// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "FaceKitCore",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "FaceKitCore", targets: ["FaceKitCore"]),
    ],
    targets: [
        .target(name: "FaceKitCore"),
        .testTarget(name: "FaceKitCoreTests", dependencies: ["FaceKitCore"]),
    ]
)
