"""BatchNorm folded into the convs while the model keeps its training layout (each BatchNorm an exact identity)."""

from __future__ import annotations

import copy

from torch import nn

from exporter.model.blazeface import FaceKitNet


def fold_into_identity_norms(model: FaceKitNet) -> FaceKitNet:
    """A copy whose conv weights hold their BatchNorms and whose BatchNorms are exact identities (eval mode).

    The checkpoint layout stays the training one, so the copy saves and loads like any FaceKit checkpoint, and
    export's own folding leaves its weights unchanged.
    """
    folded = dict(copy.deepcopy(model).cpu().eval().fold_batchnorm().named_modules())
    result = copy.deepcopy(model).cpu().eval()
    for name, module in result.named_modules():
        if isinstance(module, nn.BatchNorm2d):  # scale 1/sqrt(var + eps) = 1, no shift
            module.weight.data.fill_(1.0)
            module.bias.data.zero_()
            module.running_mean.data.zero_()
            module.running_var.data.fill_(1.0 - module.eps)
        elif isinstance(module, nn.Conv2d):
            module.weight.data = folded[name].weight.data.clone()
            if module.bias is not None:
                module.bias.data = folded[name].bias.data.clone()
    return result
