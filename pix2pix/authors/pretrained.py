"""The authors' trained generators (pix2pix/authors/published.py): downloaded once, converted
without torch, kept as H5.

Each `.pth` file is read with pix2pix/authors/pth.py (which never runs code), its weights are put
into this project's U-Net (pix2pix/authors/convert.py) and the result saved as
models/pretrained/<name>.h5, with a configuration saying what it translates, so that every
script uses it like a trained model.
"""
import os
import tempfile

from pix2pix.authors.convert import generator_from_reference
from pix2pix.authors.pth import read_state_dict
from pix2pix.authors.published import PRETRAINED, PRETRAINED_URL, pretrained_path
from pix2pix.data.prepare import download
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import save_generator


def pretrained_generator(name, models_dir="models", base_url=PRETRAINED_URL):
    """The path of models/pretrained/<name>.h5, downloading and converting it the first time."""
    path = pretrained_path(name, models_dir)
    if os.path.isfile(path):
        return path
    dataset, reverse, translates = PRETRAINED[name]
    url = f"{base_url.rstrip('/')}/{name}.pth"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path), prefix=f".{name}.") as folder:
        state_path = os.path.join(folder, f"{name}.pth")
        download(url, state_path)
        try:
            g_model = generator_from_reference(read_state_dict(state_path), url)
        except Pix2PixError as e:
            raise Pix2PixError(str(e).replace(state_path, url)) from None
    config = {"image_size": g_model.input_shape[1], "dataset": dataset, "reverse": reverse,
              "translates": translates, "ngf": g_model.get_layer("encoder_1").filters,
              "pretrained": name, "source": url}
    save_generator(g_model, path, config)
    print(f"converted the authors' {name} generator ({translates}) into {path}")
    return path
