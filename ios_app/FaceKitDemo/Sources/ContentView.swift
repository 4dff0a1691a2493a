import AVFoundation
import FaceKitCore
import SwiftUI

/// The camera with the overlay, the stage times and compute units, and buttons for settings and the benchmark.
struct ContentView: View {
    @StateObject private var camera = CameraController()
    @State private var settings: DemoSettings?
    @State private var reuseDefaults: [ReusePolicy: ReuseConfig] = [:]
    @State private var loadError: String?
    @State private var showSettings = false
    @State private var showBenchmark = false

    var body: some View {
        ZStack {
            CameraPreview(session: camera.session)
                .ignoresSafeArea()
            GeometryReader { geometry in
                FaceOverlay(result: camera.result, viewSize: geometry.size)
            }
            .ignoresSafeArea()
            VStack(alignment: .leading, spacing: 6) {
                StatsPanel(result: camera.result, status: camera.status)
                if let message = loadError ?? camera.errorMessage {
                    Text(message)
                        .font(.footnote)
                        .padding(8)
                        .background(.red.opacity(0.8), in: RoundedRectangle(cornerRadius: 8))
                        .foregroundStyle(.white)
                }
                Spacer()
                HStack {
                    Button("Settings") { showSettings = true }
                    Spacer()
                    Button("Flip camera") { flipCamera() }
                    Spacer()
                    Button("Benchmark") { showBenchmark = true }
                }
                .buttonStyle(.borderedProminent)
                .disabled(settings == nil)
            }
            .padding()
        }
        .onAppear(perform: start)
        .onDisappear { camera.stop() }
        .sheet(isPresented: $showSettings) {
            if let binding = Binding($settings) {
                SettingsView(settings: binding, reuseDefaults: reuseDefaults)
            }
        }
        .sheet(isPresented: $showBenchmark, onDismiss: { camera.resume() }) {
            // The camera pauses so that the benchmark has the phone to itself.
            BenchmarkView()
                .onAppear { camera.stop() }
        }
        .onChange(of: settings) { newValue in
            if let newValue { camera.configure(settings: newValue) }
        }
    }

    private func start() {
        guard settings == nil else {
            camera.resume()  // back on screen: the camera and model are set up already
            return
        }
        do {
            let resources = try DemoResources.load()
            reuseDefaults = resources.reuse.configs
            let initial = try DemoSettings(reuseDefaults: reuseDefaults)
            settings = initial
            camera.start(resources: resources, settings: initial)
        } catch {
            loadError = (error as? LocalizedError)?.errorDescription ?? error.localizedDescription
        }
    }

    private func flipCamera() {
        guard var current = settings else { return }
        current.cameraPosition = current.cameraPosition == .front ? .back : .front
        settings = current
        camera.switchCamera(to: current.cameraPosition)
    }
}

/// Per-stage latency of the last model run, the compute units and the reuse decision.
struct StatsPanel: View {
    let result: FrameResult
    let status: String

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            Text(status)
            if let times = result.times {
                Text(String(format: "pre %.1f · infer %.1f · post %.1f ms", times.pre, times.infer, times.post))
            }
            Text("frame: \(result.reason.rawValue) · faces: \(result.faces.count)")
            if result.motion != .zero {
                Text("camera moved \(result.motion.dx), \(result.motion.dy) samples")
            }
        }
        .font(.caption.monospacedDigit())
        .padding(8)
        .background(.black.opacity(0.55), in: RoundedRectangle(cornerRadius: 8))
        .foregroundStyle(.white)
    }
}

/// The camera preview (aspect fill, like the overlay's mapping).
struct CameraPreview: UIViewRepresentable {
    let session: AVCaptureSession

    final class PreviewView: UIView {
        override class var layerClass: AnyClass { AVCaptureVideoPreviewLayer.self }
        var previewLayer: AVCaptureVideoPreviewLayer { layer as! AVCaptureVideoPreviewLayer }
    }

    func makeUIView(context: Context) -> PreviewView {
        let view = PreviewView()
        view.previewLayer.session = session
        view.previewLayer.videoGravity = .resizeAspectFill
        return view
    }

    func updateUIView(_ uiView: PreviewView, context: Context) {}
}

/// Boxes, keypoints, age and gender drawn over the preview.
struct FaceOverlay: View {
    let result: FrameResult
    let viewSize: CGSize

    var body: some View {
        let mapping = ViewMapping(imageWidth: result.imageWidth, imageHeight: result.imageHeight,
                                  viewWidth: Float(viewSize.width), viewHeight: Float(viewSize.height),
                                  rotation: .none, mirrored: result.mirrored)
        let faces = result.faces.map(mapping.map)
        ZStack(alignment: .topLeading) {
            Canvas { context, _ in
                for face in faces {
                    let box = CGRect(x: CGFloat(face.box[0]), y: CGFloat(face.box[1]),
                                     width: CGFloat(face.box[2] - face.box[0]), height: CGFloat(face.box[3] - face.box[1]))
                    context.stroke(Path(box), with: .color(.green), lineWidth: 2)
                    for point in face.keypoints {
                        let dot = CGRect(x: CGFloat(point.x) - 3, y: CGFloat(point.y) - 3, width: 6, height: 6)
                        context.fill(Path(ellipseIn: dot), with: .color(.yellow))
                    }
                }
            }
            ForEach(Array(faces.enumerated()), id: \.offset) { _, face in
                Text(label(face))
                    .font(.caption.bold())
                    .padding(3)
                    .background(.green.opacity(0.8))
                    .foregroundStyle(.black)
                    .position(x: CGFloat(face.box[0] + face.box[2]) / 2, y: CGFloat(face.box[1]) - 10)
            }
        }
        .frame(width: viewSize.width, height: viewSize.height)
        .allowsHitTesting(false)
    }

    private func label(_ face: Face) -> String {
        let percent = FloatingPointFormatStyle<Float>.Percent().precision(.fractionLength(0))
        var parts = [face.score.formatted(percent)]
        if let age = face.age { parts.append(String(format: "%.0f y", age)) }
        if let female = face.female { parts.append("P(female) " + female.formatted(percent)) }
        return parts.joined(separator: " · ")
    }
}
