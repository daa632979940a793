"""The networks compute the authors' functions: given the weights of their PyTorch modules (the
fixtures, read from their .pth files without torch), G and D reproduce PyTorch's outputs."""
import os

import keras
import numpy as np
import pytest

from pix2pix.authors.convert import generator_from_reference, load_reference_weights
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
    d = define_discriminator((64, 64, 3), ndf=8)
    load_reference_weights(d, read_state_dict(fixture("patchgan70_64_ndf8.pth")), "D")
    io = np.load(fixture("patchgan70_64_ndf8_io.npz"))
    pair = [io["source"], io["target"]]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(d(pair, training=False)),
                               io["logits_eval"], atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(d(pair, training=True)),
                               io["logits_batch_stats"], atol=1e-5)


def test_weights_of_another_network_are_refused():
    state = read_state_dict(fixture("unet_32_ngf8.pth"))
    with pytest.raises(Pix2PixError, match="unet.pth: holds 17 modules with weights, the discriminator has 8"):
        load_reference_weights(define_discriminator((64, 64, 3), ndf=8), state, "unet.pth")
    with pytest.raises(Pix2PixError, match="module model.model.0 holds shapes"):
        load_reference_weights(define_generator((32, 32, 3), ngf=16), state, "unet.pth")
    with pytest.raises(Pix2PixError, match="not one of the authors' generators"):
        generator_from_reference(read_state_dict(fixture("patchgan70_64_ndf8.pth")), "d.pth")
