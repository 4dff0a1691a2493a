import FaceKitCore
import SwiftUI

/// Runs the benchmark off the main thread, shows progress, saves the report to Documents and offers to share it.
struct BenchmarkView: View {
    @State private var progress = "Not started"
    @State private var running = false
    @State private var reportURL: URL?
    @State private var summary: [String] = []
    @State private var errorMessage: String?

    var body: some View {
        NavigationStack {
            List {
                Section {
                    Text("Runs every compute-unit choice over the bundled test photos (warm-up runs excluded), then each frame-reuse policy over the bundled clip, and writes a report that `facekit bench --import FILE` reads.")
                        .font(.footnote)
                    Button(running ? "Running..." : "Run benchmark", action: start)
                        .disabled(running)
                    Text(progress).font(.caption)
                }
                if !summary.isEmpty {
                    Section("Median inference, ms") {
                        ForEach(summary, id: \.self) { Text($0).font(.caption.monospacedDigit()) }
                    }
                }
                if let reportURL {
                    Section("Report") {
                        Text("Saved in Files > On My iPhone > FaceKit > \(reportURL.lastPathComponent)").font(.caption)
                        ShareLink(item: reportURL) { Label("Share report", systemImage: "square.and.arrow.up") }
                    }
                }
                if let errorMessage {
                    Text(errorMessage).foregroundStyle(.red)
                }
            }
            .navigationTitle("Benchmark")
        }
    }

    private func start() {
        running = true
        errorMessage = nil
        DispatchQueue.global(qos: .userInitiated).async {
            do {
                let runner = BenchmarkRunner(resources: try DemoResources.load())
                let report = try runner.run { message in
                    DispatchQueue.main.async { progress = message }
                }
                let url = try BenchmarkRunner.save(report)
                let lines = report.latency.map { row in
                    String(format: "%@ %@: pre %.2f · infer %.2f · post %.2f", row.backend, row.delegate,
                           row.preMs.median, row.inferMs.median, row.postMs.median)
                }
                DispatchQueue.main.async {
                    summary = lines
                    reportURL = url
                    progress = "Done"
                    running = false
                }
            } catch {
                let message = (error as? LocalizedError)?.errorDescription ?? error.localizedDescription
                DispatchQueue.main.async {
                    errorMessage = message
                    progress = "Failed"
                    running = false
                }
            }
        }
    }
}
