"""The authors' PyTorch weights (their .pth files) in this project's networks.

pix2pix/networks.py builds the same layers as the authors' code, in the same order, so the
weights map one module to one layer: each convolution's kernel is transposed from PyTorch's
[out, in, kh, kw] ([in, out, kh, kw] for a transposed convolution) to Keras's [kh, kw, in, out]
([kh, kw, out, in]), the same transposition for both, and each BatchNorm's weight, bias,
running mean and running variance become its gamma, beta and moving averages.
"""

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.model.networks import BatchNorm, define_generator


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


def generator_from_reference(state, source):
    """Build the U-Net that an authors' generator state dict describes and load its weights.

    Its depth (log2 of the image size) is its number of convolutions, half of them transposed;
    its width (ngf) and channels come from the first convolution, [ngf, channels, 4, 4].
    """
    first = state.get("model.model.0.weight")
    if first is None or first.ndim != 4:
        raise Pix2PixError(f"{source}: not the authors' U-Net generator (no model.model.0.weight)")
    ngf, channels = first.shape[:2]
    depth = sum(1 for key, value in state.items() if key.endswith(".weight") and value.ndim == 4)
    size = 2 ** (depth // 2)
    try:
        g_model = define_generator((size, size, channels), ngf=ngf)
    except ValueError as e:
        raise Pix2PixError(f"{source}: {e}") from None
    load_reference_weights(g_model, state, source)
    return g_model
