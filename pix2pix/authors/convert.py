"""The authors' PyTorch weights (their .pth files) in this project's networks.

pix2pix/model/ builds the same layers as the authors' code, in the same order, so the
weights map one module to one layer: each convolution's kernel is transposed from PyTorch's
[out, in, kh, kw] ([in, out, kh, kw] for a transposed convolution) to Keras's [kh, kw, in, out]
([kh, kw, out, in]), the same transposition for both, and each BatchNorm's weight, bias,
running mean and running variance become its gamma, beta and moving averages.
"""

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.model.networks import define_generator
from pix2pix.model.layers import BatchNorm


WEIGHTED_LAYERS = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, BatchNorm)


def reference_modules(state):
    """The modules of a state dict, in order: [(name, {parameter: array})]."""
    modules = {}
    for key, value in state.items():
        name, _, parameter = key.rpartition(".")
        modules.setdefault(name, {})[parameter] = value
    return list(modules.items())


def load_reference_weights(model, state, source):
    """Set the weights of `model` (G or D) from the authors' state dict of the same network."""
    layers = [layer for layer in model.layers if isinstance(layer, WEIGHTED_LAYERS)]
    modules = reference_modules(state)
    if len(modules) != len(layers):
        raise Pix2PixError(f"{source}: holds {len(modules)} modules with weights, the "
                           f"{model.name} has {len(layers)}: not the same network")
    for layer, (name, params) in zip(layers, modules):
        if isinstance(layer, BatchNorm):
            names = ["weight", "bias", "running_mean", "running_var"]
        else:
            names = ["weight", "bias"] if layer.use_bias else ["weight"]
        if any(n not in params for n in names):
            raise Pix2PixError(f"{source}: module {name} has {', '.join(params)}, where the "
                               f"{model.name}'s {layer.name} needs {', '.join(names)}")
        values = [params[n] for n in names]
        if not isinstance(layer, BatchNorm):
            values[0] = values[0].transpose(2, 3, 1, 0)
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise Pix2PixError(f"{source}: module {name} holds shapes "
                               f"{[v.shape for v in values]}, where the {model.name}'s "
                               f"{layer.name} needs {expected}")
        layer.set_weights(values)


STALE_STATISTICS = {"running_mean", "running_var", "num_batches_tracked"}


def reference_structure(state, source):
    """What generator an authors' state dict holds, read from its keys and shapes: {"netG":
    "unet" or "resnet_<n>blocks", "norm", "ngf", "in_channels", "out_channels"}, with "depth"
    (downsamplings) for a U-Net. A U-Net nests its blocks (`model.model.1.model.3...`); a ResNet
    is flat (`model.<i>`, its blocks `model.<i>.conv_block.<j>`)."""
    convs = [(key, value) for key, value in state.items()
             if key.endswith(".weight") and value.ndim == 4]
    if not convs or not convs[0][0].startswith("model."):
        raise Pix2PixError(f"{source}: not one of the authors' generators (no model.* "
                           f"convolutions)")
    (first, first_kernel), (last, last_kernel) = convs[0], convs[-1]
    # Which modules are BatchNorms: those with a scale beside their running statistics.
    batch = any(key.endswith(".running_mean") and key[:-12] + "weight" in state
                for key in state)
    # The authors' rule gives a convolution a bias only before InstanceNorm (has_bias).
    second_bias = convs[1][0][:-6] + "bias" in state if len(convs) > 1 else False
    norm = "batch" if batch else "instance" if second_bias else "none"
    ngf, in_channels = first_kernel.shape[:2]
    if first == "model.model.0.weight":
        out_channels = last_kernel.shape[1]  # [in, out, kh, kw]: a transposed convolution
        return {"netG": "unet", "norm": norm, "ngf": int(ngf), "in_channels": int(in_channels),
                "out_channels": int(out_channels), "depth": len(convs) // 2}
    blocks = len({key.split(".conv_block")[0] for key, _ in convs if ".conv_block." in key})
    if first != "model.1.weight" or not blocks:
        raise Pix2PixError(f"{source}: not one of the authors' generators (neither a U-Net "
                           f"nor a ResNet: it begins with {first})")
    return {"netG": f"resnet_{blocks}blocks", "norm": norm, "ngf": int(ngf),
            "in_channels": int(in_channels), "out_channels": int(last_kernel.shape[0])}


def generator_from_reference(state, source, size=None):
    """Build the generator that an authors' state dict describes and load its weights. A U-Net's
    size is 2 ** its depth; a ResNet, which takes any size divisible by 4, is built for `size`
    (default 256). A ResNet saved by their older code, whose InstanceNorm layers kept running
    statistics, loads as their current code loads it: those statistics are ignored."""
    structure = reference_structure(state, source)
    state = {key: value for key, value in state.items()
             if structure["norm"] == "batch" or key.rpartition(".")[2] not in STALE_STATISTICS}
    # A ResNet's size is not in its file; its dropout neither: CycleGAN's models have none.
    unet = structure["netG"] == "unet"
    side = 2 ** structure["depth"] if unet else size or 256
    try:
        g_model = define_generator((side, side, structure["in_channels"]), structure["ngf"],
                                   structure["netG"], structure["norm"], dropout=unet,
                                   out_channels=structure["out_channels"])
    except ValueError as e:
        raise Pix2PixError(f"{source}: {e}") from None
    load_reference_weights(g_model, state, source)
    return g_model
