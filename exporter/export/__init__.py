"""Export: convert a checkpoint to every mobile format, verify each against PyTorch, package a bundle."""
