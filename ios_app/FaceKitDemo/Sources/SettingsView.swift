import FaceKitCore
import SwiftUI

/// Compute units and the frame-reuse policy with its thresholds.
struct SettingsView: View {
    @Binding var settings: DemoSettings
    let reuseDefaults: [ReusePolicy: ReuseConfig]
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        NavigationStack {
            Form {
                Section("Core ML compute units") {
                    Picker("Run on", selection: $settings.computeChoice) {
                        ForEach(ComputeChoice.allCases) { choice in
                            Text(choice.title).tag(choice)
                        }
                    }
                    .pickerStyle(.inline)
                }
                Section("Frame reuse") {
                    Picker("Policy", selection: policy) {
                        ForEach(ReusePolicy.allCases, id: \.self) { policy in
                            Text(policy.rawValue).tag(policy)
                        }
                    }
                    if settings.reuse.policy == .skipN {
                        Stepper("Run every \(settings.reuse.skip) frames", value: $settings.reuse.skip, in: 1...30)
                    }
                    if settings.reuse.policy != .everyFrame {
                        Stepper("Reuse at most \(settings.reuse.maxReuse) frames", value: $settings.reuse.maxReuse, in: 0...60)
                    }
                    if settings.reuse.policy == .motionGated || settings.reuse.policy == .motionGatedTracking {
                        VStack(alignment: .leading) {
                            Text(String(format: "Region change threshold %.3f", settings.reuse.regionThreshold))
                            Slider(value: $settings.reuse.regionThreshold, in: 0.005...0.2)
                        }
                    }
                    if settings.reuse.policy == .motionGatedTracking {
                        VStack(alignment: .leading) {
                            Text(String(format: "Face change threshold %.3f", settings.reuse.faceThreshold))
                            Slider(value: $settings.reuse.faceThreshold, in: 0.005...0.2)
                        }
                        Stepper("Search ±\(settings.reuse.search) cells", value: $settings.reuse.search, in: 0...6)
                    }
                    Button("Reset to the reference settings") {
                        settings.select(settings.reuse.policy, from: reuseDefaults)
                    }
                }
            }
            .navigationTitle("Settings")
            .toolbar {
                ToolbarItem(placement: .confirmationAction) {
                    Button("Done") { dismiss() }
                }
            }
        }
    }

    /// The policy picker: switching loads that policy's reference settings.
    private var policy: Binding<ReusePolicy> {
        Binding(get: { settings.reuse.policy }, set: { settings.select($0, from: reuseDefaults) })
    }
}
