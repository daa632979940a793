"""A training run's configuration: every setting once, with its default, its flag and its help.

train.py's flags (`add_run_flags`), the loop's arguments (a `RunConfig`), the settings a
checkpoint records to resume the same run (`recorded`), and the configuration saved with each
model (`model_config`) all come from the fields below. A resumed run takes the checkpoint's
settings; `resume_settings` is the one check that a resumed run is the same run.
"""
import dataclasses
import os
from dataclasses import dataclass, field

from pix2pix.data.preprocess import PREPROCESS, Preprocess
from pix2pix.errors import Pix2PixError
from pix2pix.model.gan import GAN_LOSSES, LAMBDA_L1
from pix2pix.model.layers import NORMS
from pix2pix.model.networks import GENERATORS, PATCH_LAYERS, PRECISIONS
from pix2pix.model.pytorch_adam import BETA_1, LEARNING_RATE
from pix2pix.training.distribute import DISTRIBUTIONS


def setting(default, help, flag="", recorded=True, minimum=None, choices=None, grows=False,
            metavar=None):
    """A field of `RunConfig`. `flag`: "" for the field's own --name, None for none (the
    positional dataset; values the loop measures); `recorded`: kept in the checkpoint and
    checked on resume; `grows`: may be raised on resume (to train longer)."""
    return field(default=default, metadata=dict(help=help, flag=flag, recorded=recorded,
                                                 minimum=minimum, choices=choices, grows=grows,
                                                 metavar=metavar))


@dataclass(frozen=True)
class RunConfig:
    # What the run is: recorded in its checkpoint, so that --resume continues the same run.
    dataset: str = setting(None, "npz file from prepare_dataset.py, or a folder of side-by-side "
                           "pair images (read as needed: any number of images fits)", flag=None)
    size: int = setting(256, "image size when training from a folder", minimum=1)
    reverse: bool = setting(False, "translate right to left (maps: map -> satellite)")
    batch_size: int = setting(1, "pairs per step (the paper's; it used 4 for edges2shoes)",
                              minimum=1)
    epochs: int = setting(100, "epochs at the full learning rate", minimum=1, grows=True)
    decay_epochs: int = setting(0, "further epochs over which the rate falls linearly to zero "
                                "(the paper's recipe is --epochs 100 --decay-epochs 100)",
                                minimum=0, grows=True)
    jitter: bool = setting(True, "turn off all randomness of --preprocess (crops and "
                           "mirroring): each pair resized to the crop size or centre-cropped",
                           flag="--no-jitter")
    preprocess: str = setting("resize_and_crop", "how each pair is prepared, as the authors' "
                              "option: resize_and_crop (the paper's jitter), crop (random "
                              "crops of pairs at their own resolution), scale_width, "
                              "scale_width_and_crop (keep the aspect ratio) or none",
                              choices=PREPROCESS)
    load_size: int = setting(None, "side (width for scale_width) pairs are resized to before "
                             "the crop (default crop size x 286/256)", minimum=1)
    crop_size: int = setting(None, "side of the random crops, the model's input size (default "
                             "the images' side)", minimum=1)
    flip: bool = setting(True, "no random mirroring (crops stay on)", flag="--no-flip")
    max_value: int = setting(None, "the pixel value that maps to 1 (0 maps to -1) for every "
                             "image: by default the type's largest, 255 or 65535 (e.g. 4095 for "
                             "12-bit data in 16-bit files)", minimum=1)
    netG: str = setting("unet", "the generator: the paper's U-Net, the authors' ResNets (any "
                        "size divisible by 4; CycleGAN's), or the U-Net without skips (the "
                        "paper's encoder-decoder)", choices=GENERATORS)
    norm: str = setting("batch", "normalization of G and D: batch (the paper's), instance "
                        "(each image's own statistics: the authors' advice for several GPUs) "
                        "or none", choices=NORMS)
    dropout: bool = setting(True, "train G without its dropout (then the paper's mode "
                            "translates deterministically)", flag="--no-dropout")
    gan_mode: str = setting("vanilla", "the GAN loss: vanilla (the paper's cross-entropy) or "
                            "lsgan (least squares)", choices=list(GAN_LOSSES))
    gan: bool = setting(True, "no GAN term: G learns from L1 alone and D is not trained (the "
                        "paper's L1 rows)", flag="--no-gan")
    conditional: bool = setting(True, "D sees the target image alone, not the source beside it "
                                "(the paper's unconditional GAN rows)", flag="--unconditional")
    patch: int = setting(70, "receptive field of the discriminator in pixels (70 is the "
                         "paper's choice; 1, 16 and 286 are the others of its study)",
                         choices=sorted(PATCH_LAYERS))
    ngf: int = setting(64, "width of G's first layer, doubling up to 8x deeper in", minimum=1)
    ndf: int = setting(64, "width of D's first layer, doubling up to 8x", minimum=1)
    lambda_l1: float = setting(LAMBDA_L1, "weight of the L1 term in G's loss (the paper's "
                               "lambda)", minimum=0)
    lr: float = setting(LEARNING_RATE, "Adam's learning rate, for both networks", minimum=0)
    beta1: float = setting(BETA_1, "Adam's first momentum, for both networks", minimum=0)
    precision: str = setting("auto", "auto: the fastest that scores as float32 on this machine "
                             "(bfloat16 on CPUs with AVX512_BF16 or AMX and on Ampere or newer "
                             "GPUs, float16 on older NVIDIA GPUs, float32 elsewhere; the run "
                             "records the one chosen), float32: equals the authors' arithmetic, "
                             "bfloat16: mixed precision, about 1.6x faster on a CPU with "
                             "AVX512_BF16, slower on CPUs without it, or float16: mixed "
                             "precision with loss scaling; the weights stay float32",
                             choices=("auto", *PRECISIONS))
    xla: bool = setting(False, "compile the training step with XLA (jit_compile): on this "
                        "project's CPUs it measured slower (bench/README.md), on a GPU measure "
                        "it with bench/gpu_speed.py; it rounds differently, so a run does not "
                        "repeat one without it exactly", recorded=False)
    distribute: str = setting("none", "train on all GPUs of this machine (mirrored) or on "
                              "several machines, each started with its own TF_CONFIG "
                              "(multiworker); --batch-size is the global batch, split across "
                              "the devices, and BatchNorm pools their statistics",
                              choices=DISTRIBUTIONS)
    pairs: int = setting(None, "pairs in the dataset, as the loop counts them", flag=None)
    bit_depth: int = setting(8, "8 or 16, the type of the dataset's images", flag=None)
    colorization: bool = setting(False, "L-to-ab pairs (prepare_dataset.py --colorization)",
                                 flag=None)
    # How this invocation runs and reports: not recorded, free to change on --resume.
    out: str = setting("models", "output folder", recorded=False)
    model_format: str = setting("h5", "the file format of the saved generators: H5 (the "
                                "tutorial's) or Keras 3's native .keras", recorded=False,
                                choices=("h5", "keras"))
    save_every: int = setting(10, "save the generator and a plot every N epochs", minimum=1,
                              recorded=False, metavar="N")
    checkpoint_every: int = setting(None, "save a full checkpoint every N steps (by default "
                                    "every epoch)", minimum=1, recorded=False, metavar="STEPS")
    logdir: str = setting(None, "TensorBoard logs: losses and learning rate every --log-every "
                          "steps, samples, held-out scores (by default <out>/logs)",
                          recorded=False)
    log_every: int = setting(10, "show the losses on the progress bar and log them to "
                             "TensorBoard every N steps (losses.csv has every step)", minimum=1,
                             recorded=False, metavar="N")
    sample_every: int = setting(1000, "log a few source / generated / target images to "
                                "TensorBoard every N steps (0: never)", minimum=0,
                                recorded=False, metavar="STEPS")
    val: str = setting(None, "held-out pairs (npz or folder): their MAE, PSNR and SSIM are "
                       "printed and logged at every save, and TensorBoard's samples come from "
                       "them", recorded=False, metavar="DATA")
    workers: int = setting(4, "background threads preparing batches", minimum=1,
                           recorded=False)
    seed: int = setting(None, "seed everything, for a repeatable run", recorded=False)
    deterministic_ops: bool = setting(False, "deterministic kernels (on a GPU some are not by "
                                      "default, so a seeded run does not repeat exactly), at "
                                      "some cost in speed; needs --seed. Not translate.py's "
                                      "--deterministic, which turns dropout off")

    def recorded(self):
        """The settings a checkpoint keeps, to resume the same run."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata["recorded"]}

    def model_config(self):
        """What a saved generator records of its run, so that no later command needs a flag to
        use it the way it was trained (its direction above all)."""
        return {"image_size": self.size, **{name: getattr(self, name) for name in (
            "dataset", "reverse", "netG", "norm", "dropout", "ngf", "batch_size", "gan",
            "gan_mode", "conditional", "patch", "ndf", "lambda_l1", "lr", "beta1",
            "precision", "preprocess", "load_size", "crop_size", "flip", "max_value",
            "bit_depth", "colorization", "deterministic_ops")}}

    def preprocessing(self):
        """The settings of `iterate_batches` (pix2pix/data/preprocess.py), sizes left out."""
        return Preprocess(self.preprocess, self.crop_size, self.load_size, self.flip,
                          self.max_value)


FIELDS = {f.name: f for f in dataclasses.fields(RunConfig)}


def flag_of(name):
    flag = FIELDS[name].metadata["flag"]
    return f"--{name.replace('_', '-')}" if flag == "" else flag


def add_run_flags(parser):
    """The flags of every setting that has one. Recorded settings default to None, so that a
    resumed run can tell the flags given from those left out (which take the checkpoint's)."""
    for name, f in FIELDS.items():
        meta = f.metadata
        if meta["flag"] is None:
            continue
        default = None if meta["recorded"] else f.default
        shown = "" if f.default is None else f" (default {f.default:g})" if isinstance(
            f.default, float) else f" (default {f.default})"
        if f.type is bool:
            parser.add_argument(flag_of(name), dest=name, default=None,
                                action="store_false" if f.default else "store_true",
                                help=meta["help"])
        else:
            parser.add_argument(flag_of(name), dest=name, type=f.type, default=default,
                                choices=meta["choices"], metavar=meta["metavar"],
                                help=meta["help"] + shown)


def given_settings(args):
    """The settings given on the command line (None for each one left out), values checked."""
    given = {name: getattr(args, name, None) for name in FIELDS}
    for name, value in given.items():
        minimum = FIELDS[name].metadata["minimum"]
        if value is not None and minimum is not None and value < minimum:
            raise Pix2PixError(f"{flag_of(name)} cannot be negative" if minimum == 0 else
                               f"{flag_of(name)} must be at least {minimum:g}")
    given["dataset"] = os.path.realpath(args.dataset)
    if given["deterministic_ops"] and given["seed"] is None:
        raise Pix2PixError("--deterministic-ops repeats a run only from the same seed: add "
                           "--seed N")
    if given["gan"] is False:  # D plays no part: its settings would mean nothing
        for name in ("conditional", "gan_mode", "patch", "ndf"):
            if given[name] is not None:
                raise Pix2PixError(f"--no-gan trains no discriminator: {flag_of(name)} "
                                   f"means nothing without one")
    return given


def with_defaults(settings):
    """A RunConfig of `settings`, each one left out (None) at its default."""
    return RunConfig(**{name: f.default if settings.get(name) is None else settings[name]
                        for name, f in FIELDS.items()})


def resume_settings(given, recorded, path):
    """The settings of a resumed run: the checkpoint's `recorded` ones, where `given` (None for
    each one left out) agrees with them or only raises one that grows (to train longer).

    Anything else would quietly change the run half-way (another batch size or jitter
    misaligns the rest of the epoch), so it is refused with one line naming the flag. A setting
    the checkpoint does not record (one written by an older version) is taken as given.
    """
    merged = dict(given)
    for name, value in given.items():
        if name not in recorded or not FIELDS[name].metadata["recorded"]:
            continue
        old, flag = recorded[name], flag_of(name)
        if value is None or value == old:
            merged[name] = old
        elif FIELDS[name].metadata["grows"] and value > old:
            merged[name] = value
        elif name == "dataset":
            raise Pix2PixError(f"{value}: not the dataset of the run in {path} ({old}); "
                               f"a different dataset would misalign the epoch's order")
        elif flag is None:
            raise Pix2PixError(f"{path}: its run has {name} {old}, this one {value}; resume it "
                               f"with the data it was started with")
        elif isinstance(value, bool):
            raise Pix2PixError(f"{flag} contradicts the checkpoint ({path}), whose run was "
                               f"started without it; leave it out to continue the run")
        elif FIELDS[name].metadata["grows"]:
            raise Pix2PixError(f"{flag} {value} is less than the checkpoint's {old} ({path}); "
                               f"leave it out to continue the run, or raise it to train longer")
        else:
            raise Pix2PixError(f"{flag} {value} contradicts the checkpoint's {old} ({path}); "
                               f"leave it out to continue the run")
    return merged
