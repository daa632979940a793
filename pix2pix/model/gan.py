"""The composite model source -> G -> D, and the pix2pix training step it runs.

One call of `train_step` on a batch (source x, target y) is one iteration of the authors'
training loop (their `optimize_parameters`), compiled into a single TensorFlow graph:

    1. G translates the source, once:  G(x)
    2. one update of D on  0.5 * (BCE(D(x, G(x)), 0) + BCE(D(x, y), 1)),  G(x) detached
    3. one update of G on  BCE(D(x, G(x)), 1) + lambda * mean|y - G(x)|,  through the updated D

which is the paper's objective  G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G).
The authors' other objectives: "lsgan" puts the squared error (D(.) - label)^2 where BCE stands
(Mao et al. 2017); `L1Only`, the paper's "L1" rows, trains G on the L1 term alone and never D
(its losses are reported as 0). An unconditional D (the paper's "GAN" rows) is built to ignore
the source (pix2pix/model/networks.py).
train.py runs the step through `distributed_step` (pix2pix/training/distribute.py), on one
device or several; on one, `train_on_batch` runs it too.
"""
from pix2pix.backend import keras, tf
from pix2pix.model.pytorch_adam import BETA_1, LEARNING_RATE, PyTorchAdam


LAMBDA_L1 = 100.0  # weight of the L1 term


class Pix2Pix(keras.Model):
    """The composite model: source -> G -> D. Called, it gives D's decisions (logits) on the pair
    (source, G(source)) and the generated image; its `train_step` trains both networks."""

    def __init__(self, generator, discriminator, lambda_l1=LAMBDA_L1, gan_mode="vanilla",
                 **kwargs):
        super().__init__(name="gan", **kwargs)
        if gan_mode not in GAN_LOSSES:
            raise ValueError(f"gan_mode must be one of {', '.join(GAN_LOSSES)}, got "
                             f"{gan_mode!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.lambda_l1 = lambda_l1
        self.gan_mode = gan_mode

    def call(self, source, training=False):
        generated = self.generator(source, training=training)
        return self.discriminator([source, generated], training=training), generated

    def compile(self, d_optimizer, g_optimizer):
        super().compile(jit_compile=False)  # XLA measured slower on CPU
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # Their variables now rather than at the first update, which would trace the step twice
        # (a LossScaleOptimizer builds its inner optimizer's too).
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    def train_step(self, data):
        source, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        # 1. G(x), once: both updates use it. G's tape records only G's own forward pass here...
        with tf.GradientTape() as g_tape:
            generated = self.generator(source, training=True)
        # 2. ...so D's update, outside it, sees G(x) detached (the authors' fake_B.detach()).
        d_real, d_fake = self.update_discriminator(source, target, generated)
        # 3. ...and G's loss, recorded on the same tape again, reaches G through the updated D.
        with g_tape:
            g_gan, g_l1, g_loss = self.generator_losses(source, target, generated)
        descend(self.g_optimizer, g_tape, g_loss, self.generator)
        return {"d_real": d_real, "d_fake": d_fake, "g_gan": g_gan, "g_l1": g_l1, "g": g_loss}

    def update_discriminator(self, source, target, generated):
        """D learns to tell the real pair (label 1) from the generated one (0). Each pair goes
        through D in its own call, so each is normalized with its own statistics."""
        D = self.discriminator
        with tf.GradientTape() as d_tape:
            d_fake = self.gan_loss(D([source, generated], training=True), 0.0)
            d_real = self.gan_loss(D([source, target], training=True), 1.0)
            d_loss = 0.5 * (d_fake + d_real)
        descend(self.d_optimizer, d_tape, d_loss, D)
        return d_real, d_fake

    def generator_losses(self, source, target, generated):
        """G learns to make D answer "real", and to stay near the target in L1."""
        g_gan = self.gan_loss(self.discriminator([source, generated], training=True), 1.0)
        g_l1 = keras.ops.mean(keras.ops.abs(target - generated))
        return g_gan, g_l1, g_gan + self.lambda_l1 * g_l1

    def gan_loss(self, decisions, label):
        return GAN_LOSSES[self.gan_mode](decisions, label)


class L1Only(Pix2Pix):
    """The paper's "L1" rows: G learns from the L1 term alone, and D is never trained."""

    def update_discriminator(self, source, target, generated):
        return tf.constant(0.0), tf.constant(0.0)

    def generator_losses(self, source, target, generated):
        g_l1 = keras.ops.mean(keras.ops.abs(target - generated))
        return tf.constant(0.0), g_l1, self.lambda_l1 * g_l1


def descend(optimizer, tape, loss, network):
    """One optimizer step of `network` down the gradient of `loss`. Under tf.distribute each
    replica holds 1/replicas of the batch and the optimizer sums the replicas' gradients, so each
    replica's gradient is scaled by its share: the sum is the gradient of the batch's mean.
    In float16 the loss is scaled too (`scale_loss`: the gradient of scale * loss, which the
    LossScaleOptimizer divides by the scale), so that small gradients do not underflow."""
    share = tf.constant(1.0 / tf.distribute.get_replica_context().num_replicas_in_sync)
    weights = network.trainable_variables
    seed = optimizer.scale_loss(share)  # share, or share * the loss scale in float16
    optimizer.apply(tape.gradient(loss, weights, output_gradients=seed), weights)


def bce(logits, label):
    """Binary cross-entropy of D's decisions (logits) against one label, mean over all patches."""
    labels = keras.ops.full_like(logits, label)
    return keras.ops.mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


def squared_error(decisions, label):
    """lsgan's loss: the mean squared distance of D's decisions from one label."""
    return keras.ops.mean(keras.ops.square(decisions - label))


# How far D's decisions are from a label, for each --gan-mode.
GAN_LOSSES = {"vanilla": bce, "lsgan": squared_error}


def define_gan(g_model, d_model, lambda_l1=LAMBDA_L1, gan_mode="vanilla",
               learning_rate=LEARNING_RATE, beta_1=BETA_1):
    """The composite model that trains both networks, compiled with one Adam each; without a
    `gan_mode` (None), the paper's L1 alone."""
    model = (L1Only if gan_mode is None else Pix2Pix)(g_model, d_model, lambda_l1,
                                                      gan_mode or "vanilla")
    model.compile(d_optimizer=adam(learning_rate, beta_1, g_model.compute_dtype),
                  g_optimizer=adam(learning_rate, beta_1, g_model.compute_dtype))
    return model


def adam(learning_rate, beta_1, compute_dtype):
    """The authors' Adam; for networks computing in float16, inside Keras's dynamic loss scaling
    (the scale halves at a step whose gradients overflow, which it skips, and doubles after 2,000
    steps without one; checkpoints keep it)."""
    optimizer = PyTorchAdam(learning_rate, beta_1)
    if compute_dtype == "float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
