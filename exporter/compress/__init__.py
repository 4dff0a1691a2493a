"""Compression of a trained FaceKit model: each method in its own module, all writing ordinary checkpoints."""
