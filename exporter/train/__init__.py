"""Training: sample synthesis, anchor targets, multitask + distillation loss, and the training loop."""
