"""The benchmark: latency per backend, accuracy per variant, frame reuse on video, host and phone reports."""
