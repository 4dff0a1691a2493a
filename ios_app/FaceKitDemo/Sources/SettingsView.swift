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
                    if settings.reuse.policy.measuresChange {
                        ThresholdSlider(title: "Region change threshold", value: $settings.reuse.regionThreshold, range: 0.005...0.2)
                    }
                    if settings.reuse.policy == .motionGatedTracking {
                        ThresholdSlider(title: "Empty-scene threshold", value: $settings.reuse.emptyThreshold, range: 0.002...0.1)
                        ThresholdSlider(title: "Face change threshold", value: $settings.reuse.faceThreshold, range: 0.005...0.2)
                        ThresholdSlider(title: "Cut threshold", value: $settings.reuse.cutThreshold, range: 0.02...0.25)
                        ThresholdSlider(title: "Border threshold", value: $settings.reuse.edgeThreshold, range: 0.02...0.4)
                        Stepper("Search ±\(settings.reuse.search) cells", value: $settings.reuse.search, in: 0...6)
                        Stepper("Camera search ±\(settings.reuse.motionSearch) samples", value: $settings.reuse.motionSearch,
                                in: 0...32)
                        Stepper("Minimum confidence \(settings.reuse.minConfidence)‰", value: $settings.reuse.minConfidence,
                                in: 0...1000, step: 10)
                        Stepper("Re-check a lost face \(settings.reuse.recheck) times", value: $settings.reuse.recheck, in: 0...10)
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

/// A threshold of the reuse settings, with its value.
private struct ThresholdSlider: View {
    let title: String
    @Binding var value: Double
    let range: ClosedRange<Double>

    var body: some View {
        VStack(alignment: .leading) {
            Text(String(format: "%@ %.3f", title, value))
            Slider(value: $value, in: range)
        }
    }
}
