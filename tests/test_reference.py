"""The networks compute the authors' functions: given the weights of their PyTorch modules (the
fixtures, read from their .pth files without torch), G and D reproduce PyTorch's outputs."""
import json
import os

import keras
import numpy as np
import pytest

from pix2pix.authors.convert import (generator_from_reference, load_reference_weights,
                                     reference_structure)
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import translate_images
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.authors.pth import read_state_dict

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "reference")


def fixture(name):
    return os.path.join(FIXTURES, name)


@pytest.mark.parametrize("fmt", ["", "_legacy"])
@pytest.mark.parametrize("name, size, ngf", [("unet_32_ngf8", 32, 8), ("unet_256_ngf4", 256, 4)])
def test_generator_reproduces_the_authors_unet(name, size, ngf, fmt):
    g = generator_from_reference(read_state_dict(fixture(f"{name}{fmt}.pth")), name)
    assert g.input_shape == (None, size, size, 3)
    assert g.get_layer("encoder_1").filters == ngf
    io = np.load(fixture(f"{name}_io.npz"))
    # BatchNorm's running statistics (net.eval()).
    eval_out = keras.ops.convert_to_numpy(g(io["x"], training=False))
    np.testing.assert_allclose(eval_out, io["y_eval"], atol=1e-5)
    # Each image's own statistics, no dropout: the deterministic mode.
    np.testing.assert_allclose(translate_images(g, io["x"], "deterministic"),
                               io["y_batch_stats"], atol=1e-5)


def test_discriminator_reproduces_the_authors_patchgan():
    assert_reproduces_the_authors_discriminator(define_discriminator((64, 64, 3), ndf=8),
                                                "patchgan70_64_ndf8")


def assert_reproduces_the_authors_discriminator(d, name):
    """D, given the weights of the fixture `name`, gives PyTorch's logits to 1e-5 with the
    running statistics (net.eval()) and with the batch's (both pairs in one batch)."""
    load_reference_weights(d, read_state_dict(fixture(f"{name}.pth")), name)
    io = np.load(fixture(f"{name}_io.npz"))
    pair = [io["source"], io["target"]]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(d(pair, training=False)),
                               io["logits_eval"], atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(d(pair, training=True)),
                               io["logits_batch_stats"], atol=1e-5)


def test_weights_of_another_network_are_refused():
    state = read_state_dict(fixture("unet_32_ngf8.pth"))
    with pytest.raises(Pix2PixError,
                       match="unet.pth: holds 17 modules with weights, the discriminator has 8"):
        load_reference_weights(define_discriminator((64, 64, 3), ndf=8), state, "unet.pth")
    with pytest.raises(Pix2PixError, match="module model.model.0 holds shapes"):
        load_reference_weights(define_generator((32, 32, 3), ngf=16), state, "unet.pth")
    with pytest.raises(Pix2PixError, match="not one of the authors' generators"):
        generator_from_reference(read_state_dict(fixture("patchgan70_64_ndf8.pth")), "d.pth")


SECOND_SET = json.load(open(fixture("manifest2.json")))
GENERATORS = sorted(name for name, options in SECOND_SET.items() if "netG" in options)
DISCRIMINATORS = sorted(name for name, options in SECOND_SET.items() if "netD" in options)


@pytest.mark.parametrize("name", GENERATORS)
def test_every_generator_of_the_authors_converts_and_computes_their_function(name):
    """ResNets, instance and no normalization, 1 and 2 channels, and a file of their older code
    whose InstanceNorm layers kept running statistics: the structure is read from the file."""
    options, io = SECOND_SET[name], np.load(fixture(f"{name}_io.npz"))
    state = read_state_dict(fixture(f"{name}.pth"))
    structure = reference_structure(state, name)
    assert (structure["netG"], structure["norm"], structure["ngf"]) == \
        (options["netG"].replace("unet_64", "unet"), options["norm"], options["ngf"])
    assert (structure["in_channels"], structure["out_channels"]) == \
        (options.get("input_nc", 3), options.get("output_nc", 3))
    g = generator_from_reference(state, name, io["x"].shape[1])
    assert g.input_shape[1:] == io["x"].shape[1:]
    if "y" in io.files:  # the old file: their current code ignores the stale statistics
        np.testing.assert_allclose(translate_images(g, io["x"], "eval"), io["y"], atol=1e-5)
        return
    np.testing.assert_allclose(translate_images(g, io["x"], "eval"), io["y_eval"], atol=1e-5)
    np.testing.assert_allclose(translate_images(g, io["x"], "deterministic"),
                               io["y_batch_stats"], atol=1e-5)


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_every_discriminator_of_the_authors_computes_their_function(name):
    """The 1x1 PixelGAN, the 16x16 and 286x286 PatchGANs, instance normalization, and the
    colorization D (an L source beside an ab target)."""
    options, io = SECOND_SET[name], np.load(fixture(f"{name}_io.npz"))
    patch = 1 if options["netD"] == "pixel" else \
        {1: 16, 3: 70, 5: 286}[options.get("n_layers_D", 3)]
    d = define_discriminator(io["source"].shape[1:], options["ndf"], patch, options["norm"],
                             io["target"].shape[-1])
    assert_reproduces_the_authors_discriminator(d, name)


def test_a_resnet_takes_any_size_divisible_by_4():
    state = read_state_dict(fixture("resnet_9blocks_64_ngf4_instance.pth"))
    g = generator_from_reference(state, "r.pth", 48)
    assert g.input_shape == (None, 48, 48, 3)
    with pytest.raises(Pix2PixError, match="multiples of 4, got 50x50"):
        generator_from_reference(state, "r.pth", 50)
