"""The authors' trained generators (pix2pix/authors/published.py): downloaded once, converted
without torch, kept as H5.

Each `.pth` file is read with pix2pix/authors/pth.py (which never runs code), its weights are put
into this project's U-Net (pix2pix/authors/convert.py) and the result saved as
models/pretrained/<name>.h5, with a configuration saying what it translates, so that every
script uses it like a trained model.
"""
import os
import tempfile

from pix2pix.authors.convert import generator_from_reference, reference_structure
from pix2pix.authors.pth import read_state_dict
from pix2pix.authors.published import PRETRAINED, PRETRAINED_SIZE, pretrained_path
from pix2pix.data.prepare import download
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import save_generator


def pretrained_generator(name, models_dir="models", base_url=None):
    """The path of models/pretrained/<name>.h5, downloading and converting it the first time
    (from `base_url`, a folder of the authors' files, by default theirs)."""
    path = pretrained_path(name, models_dir)
    if os.path.isfile(path):
        return path
    model = PRETRAINED[name]
    url = f"{(base_url or model.folder).rstrip('/')}/{model.file}.pth"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path), prefix=f".{name}.") as folder:
        state_path = os.path.join(folder, f"{name}.pth")
        download(url, state_path)
        try:
            state = read_state_dict(state_path)
            structure = reference_structure(state, url)
            g_model = generator_from_reference(state, url, PRETRAINED_SIZE)
        except Pix2PixError as e:
            raise Pix2PixError(str(e).replace(state_path, url)) from None
    config = {"image_size": g_model.input_shape[1], "dataset": model.dataset,
              "reverse": model.reverse, "translates": model.translates,
              "pretrained": name, "source": url, **structure}
    save_generator(g_model, path, config)
    print(f"converted the authors' {name} generator ({model.translates}) into {path}")
    return path
