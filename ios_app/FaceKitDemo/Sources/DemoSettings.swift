import AVFoundation
import FaceKitCore
import Foundation

/// What the user chose: camera, compute units and the frame-reuse settings (starting from reuse_traces.json's).
struct DemoSettings: Equatable {
    var cameraPosition: AVCaptureDevice.Position = .front
    var computeChoice: ComputeChoice = .all
    var reuse: ReuseConfig

    /// The defaults: the tracking policy with the settings the Python reference wrote its traces with.
    init(reuseDefaults: [ReusePolicy: ReuseConfig]) throws {
        guard let config = reuseDefaults[.motionGatedTracking] ?? reuseDefaults.values.first else {
            throw DemoError.missingResource("a reuse policy", "reuse_traces.json lists none")
        }
        reuse = config
    }

    /// Switch the policy, keeping the file's settings for it where it has them.
    mutating func select(_ policy: ReusePolicy, from defaults: [ReusePolicy: ReuseConfig]) {
        if let config = defaults[policy] {
            reuse = config
        } else {
            reuse.policy = policy
        }
    }
}
