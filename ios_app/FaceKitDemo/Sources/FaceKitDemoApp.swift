import SwiftUI

/// The FaceKit demo: live faces, keypoints, age and gender from the camera, and a benchmark mode.
@main
struct FaceKitDemoApp: App {
    var body: some Scene {
        WindowGroup {
            ContentView()
        }
    }
}
