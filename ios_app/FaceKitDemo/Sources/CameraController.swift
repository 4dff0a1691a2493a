import AVFoundation
import FaceKitCore
import Foundation

/// What the screen shows for the latest processed frame.
struct FrameResult {
    var faces: [Face] = []
    var imageWidth = 1
    var imageHeight = 1
    var times: StageTimes?
    var reason: ReuseReason = .first
    /// The camera's shift since the last model run, in thumbnail samples (motion-gated+tracking).
    var motion: GridShift = .zero
    var mirrored = false
}

/// Camera frames -> frame-reuse scheduler (with the second look on small faces) -> Core ML face model; publishes
/// faces and stage times for the overlay.
final class CameraController: NSObject, ObservableObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    @Published private(set) var result = FrameResult()
    @Published private(set) var status = "Starting the camera..."
    @Published private(set) var errorMessage: String?

    let session = AVCaptureSession()
    private let sessionQueue = DispatchQueue(label: "facekit.session")
    private let processingQueue = DispatchQueue(label: "facekit.processing")
    private let output = AVCaptureVideoDataOutput()
    private var resources: DemoResources?
    private var configured: DemoSettings?
    // Touched on processingQueue only.
    private var scheduler: FrameReuseScheduler?
    private var lastTimes: StageTimes?
    private var mirrored = false

    /// Build the model and scheduler with the settings, and start the camera they choose.
    func start(resources: DemoResources, settings: DemoSettings) {
        self.resources = resources
        configure(settings: settings)
        AVCaptureDevice.requestAccess(for: .video) { granted in
            guard granted else {
                DispatchQueue.main.async {
                    self.errorMessage = "Camera access is off: allow it in Settings > Privacy & Security > Camera > FaceKit."
                }
                return
            }
            self.sessionQueue.async { self.configureSession(position: settings.cameraPosition) }
        }
    }

    /// Apply new settings: a new model for other compute units, a new scheduler for other reuse settings.
    func configure(settings: DemoSettings) {
        guard let resources, settings.computeChoice != configured?.computeChoice || settings.reuse != configured?.reuse else {
            return
        }
        configured = settings
        processingQueue.async {
            do {
                let model = try CoreMLFaceModel(contentsOf: resources.compiledModelURL, manifest: resources.manifest,
                                                computeUnits: settings.computeChoice.units)
                let pipeline = FacePipeline(manifest: resources.manifest, infer: model.infer)
                let secondLook = resources.secondLook
                let look: FrameReuseScheduler.Look = { frame, face in
                    try pipeline.look(at: face, in: frame, secondLook: secondLook)
                }
                self.scheduler = try FrameReuseScheduler(config: settings.reuse, sampling: resources.reuse.sampling,
                                                         secondLook: secondLook, look: look) { [weak self] frame in
                    let (faces, times) = try pipeline.detect(frame)
                    self?.lastTimes = times
                    return faces
                }
                DispatchQueue.main.async {
                    self.status = "\(settings.computeChoice.title) · \(settings.reuse.policy.rawValue)"
                    self.errorMessage = nil
                }
            } catch {
                self.show(error)
            }
        }
    }

    /// Switch between the front and back cameras.
    func switchCamera(to position: AVCaptureDevice.Position) {
        sessionQueue.async { self.configureSession(position: position) }
    }

    func stop() {
        sessionQueue.async { self.session.stopRunning() }
    }

    func resume() {
        sessionQueue.async {
            if !self.session.inputs.isEmpty, !self.session.isRunning { self.session.startRunning() }
        }
    }

    private func configureSession(position: AVCaptureDevice.Position) {
        session.beginConfiguration()
        defer {
            session.commitConfiguration()
            if !session.isRunning { session.startRunning() }
        }
        if session.canSetSessionPreset(.vga640x480) {
            session.sessionPreset = .vga640x480  // ample for a 128 px model input, and a cheap letterbox
        }
        session.inputs.forEach(session.removeInput)
        guard let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: position),
              let input = try? AVCaptureDeviceInput(device: device), session.canAddInput(input) else {
            DispatchQueue.main.async { self.errorMessage = "No \(position == .front ? "front" : "back") camera is available." }
            return
        }
        session.addInput(input)
        if !session.outputs.contains(output), session.canAddOutput(output) {
            output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
            output.alwaysDiscardsLateVideoFrames = true
            output.setSampleBufferDelegate(self, queue: processingQueue)
            session.addOutput(output)
        }
        if let connection = output.connection(with: .video) {
            // Upright portrait frames for the model (trained on upright faces); the preview mirrors the front camera.
            if #available(iOS 17.0, *) {
                if connection.isVideoRotationAngleSupported(90) { connection.videoRotationAngle = 90 }
            } else if connection.isVideoOrientationSupported {
                connection.videoOrientation = .portrait
            }
            if connection.isVideoMirroringSupported {
                connection.automaticallyAdjustsVideoMirroring = false
                connection.isVideoMirrored = false  // the model sees the scene as it is; ViewMapping mirrors the overlay
            }
        }
        let front = position == .front
        processingQueue.async { self.mirrored = front }
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let scheduler, let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) else { return }
        do {
            let frame = try RGBImage(bgraPixelBuffer: buffer)
            let decision = try scheduler.step(frame)
            let shown = FrameResult(faces: decision.faces, imageWidth: frame.width, imageHeight: frame.height,
                                    times: decision.ranModel ? lastTimes : nil, reason: decision.reason, motion: decision.motion,
                                    mirrored: mirrored)
            DispatchQueue.main.async {
                let keptTimes = shown.times ?? self.result.times
                self.result = shown
                self.result.times = keptTimes
            }
        } catch {
            show(error)
        }
    }

    private func show(_ error: Error) {
        let message = (error as? LocalizedError)?.errorDescription ?? error.localizedDescription
        DispatchQueue.main.async { self.errorMessage = message }
    }
}
